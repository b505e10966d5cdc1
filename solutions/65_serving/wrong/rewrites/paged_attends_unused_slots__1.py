"""Rewrite of paged_attends_unused_slots.py: gathers the whole blocks block_table[:ceil(context_len / block_size)] and attends to every slot in them."""
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
    used = (context_len + block_size - 1) // block_size
    blocks = block_table[:used]
    K = k_cache[blocks].reshape(used * block_size, Hkv, D)
    V = v_cache[blocks].reshape(used * block_size, Hkv, D)
    kv_of_head = torch.arange(H, device=q.device) // (H // Hkv)
    scores = (K[:, kv_of_head] * q).sum(-1) / math.sqrt(D)  # [T, H]
    return torch.einsum("th,thd->hd", scores.softmax(0), V[:, kv_of_head])
