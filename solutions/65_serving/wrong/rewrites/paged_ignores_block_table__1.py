"""Rewrite of paged_ignores_block_table.py: reshapes the whole pool to [num_blocks * block_size, Hkv, D] and reads its first context_len rows."""
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
    K = k_cache.reshape(-1, Hkv, D)[:context_len]
    V = v_cache.reshape(-1, Hkv, D)[:context_len]
    group = H // Hkv
    K = K.repeat_interleave(group, dim=1)
    V = V.repeat_interleave(group, dim=1)
    scores = torch.einsum("hd,thd->ht", q, K) / math.sqrt(D)
    return torch.einsum("ht,thd->hd", scores.softmax(-1), V)
