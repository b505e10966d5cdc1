"""Rewrite of paged_no_scale.py: F.scaled_dot_product_attention on the gathered keys with scale=1.0 instead of 1/sqrt(D)."""
# quizgen: question 65

import torch
import torch.nn.functional as F


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
    t = torch.arange(context_len, device=block_table.device)
    K = k_cache[block_table[t // block_size], t % block_size]  # [T, Hkv, D]
    V = v_cache[block_table[t // block_size], t % block_size]
    out = F.scaled_dot_product_attention(q[None, :, None, :], K.transpose(0, 1)[None], V.transpose(0, 1)[None],
                                         scale=1.0, enable_gqa=True)
    return out[0, :, 0, :]
