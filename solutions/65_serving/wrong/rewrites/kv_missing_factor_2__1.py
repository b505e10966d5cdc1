"""Rewrite of kv_missing_factor_2.py: math.prod of the six sizes, without the factor 2 for K and V."""
# quizgen: question 65

import math

import torch


def kv_cache_bytes(n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_el):
    return math.prod([n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_el])


def blocks_needed(seq_lens, block_size):
    return sum(-(-n // block_size) for n in seq_lens)


def paged_decode_attention(q, k_cache, v_cache, block_table, context_len):
    H, D = q.shape
    _, block_size, Hkv, _ = k_cache.shape
    if H % Hkv != 0:
        raise ValueError(f"q's H={H} must be a multiple of k_cache's Hkv={Hkv}")
    if not 1 <= context_len <= block_table.shape[0] * block_size:
        raise ValueError(f"context_len={context_len} out of range")
    t = torch.arange(context_len, device=block_table.device)
    keys = k_cache[block_table[t // block_size], t % block_size].repeat_interleave(H // Hkv, dim=1)
    values = v_cache[block_table[t // block_size], t % block_size].repeat_interleave(H // Hkv, dim=1)
    weights = torch.softmax(torch.einsum("hd,thd->ht", q, keys) / math.sqrt(D), dim=-1)
    return torch.einsum("ht,thd->hd", weights, values)
