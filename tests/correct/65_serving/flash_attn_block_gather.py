"""Correct: adapted from flash-attn's paged-KV test helper (tests/test_flash_attn.py, _generate_block_kvcache):
gather whole blocks k_cache_paged[block_table] and flatten "(nblocks block_size) h d" before slicing
[:seqlen_k], then the reference attention with the KV heads repeated as einops "h -> (h g)" (each KV head g
times in a row), a matmul for the scores and a masked-free softmax over the context."""
# quizgen: question 65

import math

import torch


def kv_cache_bytes(n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_el):
    per_token = 2 * n_kv_heads * head_dim * bytes_per_el  # K and V of one layer
    return n_layers * per_token * seq_len * batch


def blocks_needed(seq_lens, block_size):
    total = 0
    for length in seq_lens:
        full, rest = divmod(length, block_size)
        total += full + (1 if rest else 0)
    return total


def paged_decode_attention(q, k_cache, v_cache, block_table, context_len):
    H, D = q.shape
    nblocks_pool, block_size, Hkv, _ = k_cache.shape
    if H % Hkv != 0:
        raise ValueError(f"H % Hkv != 0: q has {H} heads and k_cache {Hkv}")
    if not (1 <= context_len <= block_table.shape[0] * block_size):
        raise ValueError(f"context_len must be in [1, len(block_table) * block_size], got context_len={context_len}")
    g = H // Hkv
    k = k_cache[block_table].reshape(-1, Hkv, D)[:context_len]  # [seqlen_k, Hkv, D]
    v = v_cache[block_table].reshape(-1, Hkv, D)[:context_len]
    k = k[:, :, None, :].expand(-1, -1, g, -1).reshape(context_len, H, D)  # "s h d -> s (h g) d"
    v = v[:, :, None, :].expand(-1, -1, g, -1).reshape(context_len, H, D)
    scores = torch.matmul(q[:, None, :], k.permute(1, 2, 0))[:, 0, :] / math.sqrt(D)  # [H, seqlen_k]
    attention = torch.softmax(scores, dim=-1)
    return torch.matmul(attention[:, None, :], v.permute(1, 0, 2))[:, 0, :]
