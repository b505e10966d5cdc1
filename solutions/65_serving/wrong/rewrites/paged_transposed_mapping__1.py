"""Rewrite of paged_transposed_mapping.py: a double loop over slots then blocks, so token t lands in block t % n_blocks, slot t // n_blocks."""
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
    n_blocks = -(-context_len // block_size)
    order = []
    for slot in range(block_size):
        for j in range(n_blocks):
            order.append((int(block_table[j]), slot))
    order = order[:context_len]
    K = torch.stack([k_cache[b, s] for b, s in order])
    V = torch.stack([v_cache[b, s] for b, s in order])
    kv = torch.arange(H) // (H // Hkv)
    scores = torch.einsum("hd,thd->ht", q, K[:, kv]) / math.sqrt(D)
    return torch.einsum("ht,thd->hd", torch.softmax(scores, dim=-1), V[:, kv])
