"""Rewrite of paged_gqa_tile.py: a loop over query heads that reads KV head h % Hkv (tiling instead of grouping)."""
# quizgen: question 65

import math

import torch


def kv_cache_bytes(n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_el):
    return 2 * n_layers * n_kv_heads * head_dim * seq_len * batch * bytes_per_el


def blocks_needed(seq_lens, block_size):
    return sum((n + block_size - 1) // block_size for n in seq_lens)


def paged_decode_attention(q, k_cache, v_cache, block_table, context_len):
    H, D = q.shape
    num_blocks, block_size, Hkv, _ = k_cache.shape
    if H % Hkv:
        raise ValueError(f"q has H={H} heads, not a multiple of k_cache's Hkv={Hkv}")
    if context_len < 1 or context_len > block_table.numel() * block_size:
        raise ValueError(f"context_len={context_len} is outside [1, {block_table.numel() * block_size}]")
    keys, values = [], []
    for t in range(context_len):
        b = int(block_table[t // block_size])
        keys.append(k_cache[b, t % block_size])
        values.append(v_cache[b, t % block_size])
    K, V = torch.stack(keys), torch.stack(values)  # [T, Hkv, D]
    out = []
    for h in range(H):
        kv = h % Hkv
        w = torch.softmax(K[:, kv] @ q[h] / math.sqrt(D), dim=0)
        out.append(w @ V[:, kv])
    return torch.stack(out)
