"""Correct: the dense fallback many serving stacks use for a paged cache (as vLLM's TorchSDPA backend, in
spirit): gather the context's slots through the block table into contiguous [H, T, D] keys and values and
call F.scaled_dot_product_attention(..., enable_gqa=True); the sizes with math.prod and math.ceil on exact
integer division."""
# quizgen: question 65

import math

import torch
import torch.nn.functional as F


def kv_cache_bytes(n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_el):
    return math.prod((2, n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_el))


def blocks_needed(seq_lens, block_size):
    return sum((n + block_size - 1) // block_size for n in seq_lens)


def paged_decode_attention(q, k_cache, v_cache, block_table, context_len):
    H, D = q.shape
    block_size, Hkv = k_cache.shape[1], k_cache.shape[2]
    if H % Hkv:
        raise ValueError(f"H={H} (q) is not a multiple of Hkv={Hkv} (k_cache)")
    capacity = block_table.numel() * block_size
    if context_len < 1 or context_len > capacity:
        raise ValueError(f"context_len={context_len} outside [1, {capacity}]")
    positions = torch.arange(context_len, device=block_table.device)
    slots = block_table[positions // block_size] * block_size + positions % block_size
    keys = k_cache.reshape(-1, Hkv, D).index_select(0, slots)  # [T, Hkv, D]
    values = v_cache.reshape(-1, Hkv, D).index_select(0, slots)
    out = F.scaled_dot_product_attention(q[None, :, None, :], keys.permute(1, 0, 2)[None],
                                         values.permute(1, 0, 2)[None], enable_gqa=True)
    return out[0, :, 0, :]
