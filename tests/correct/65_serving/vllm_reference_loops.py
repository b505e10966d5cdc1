"""Correct: adapted from vLLM's kernel-test reference (tests/kernels/attention/test_attention.py,
ref_single_query_cached_kv_attention + ref_masked_attention): for each token j read block
block_table[j // block_size] at offset j % block_size, stack, repeat_interleave the KV heads for GQA, then
scale * einsum scores and softmax. vLLM upcasts the scores with .float(); here the upcast keeps float64 as
float64. The sizes follow vLLM's CacheEngine.get_cache_block_size (K block + V block per layer) and its
cdiv(a, b) = -(a // -b)."""
# quizgen: question 65

import math

import torch


def kv_cache_bytes(n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_el):
    key_cache_block = 1 * n_kv_heads * head_dim  # one token's keys in one layer
    value_cache_block = key_cache_block
    total = n_layers * (key_cache_block + value_cache_block)
    return bytes_per_el * total * seq_len * batch


def _cdiv(a, b):
    return -(a // -b)


def blocks_needed(seq_lens, block_size):
    return sum(_cdiv(n, block_size) for n in seq_lens)


def paged_decode_attention(q, k_cache, v_cache, block_table, context_len):
    num_query_heads, head_size = q.shape
    num_blocks, block_size, num_kv_heads, _ = k_cache.shape
    if num_query_heads % num_kv_heads != 0:
        raise ValueError(f"num query heads (q: {num_query_heads}) must be a multiple of num kv heads "
                         f"(k_cache: {num_kv_heads})")
    if context_len < 1 or context_len > len(block_table) * block_size:
        raise ValueError(f"context_len={context_len} must be in [1, {len(block_table) * block_size}]")
    num_queries_per_kv = num_query_heads // num_kv_heads
    block_table_lst = block_table.tolist()
    keys_lst, values_lst = [], []
    for j in range(context_len):
        block_number = int(block_table_lst[j // block_size])
        block_offset = j % block_size
        keys_lst.append(k_cache[block_number, block_offset].reshape(num_kv_heads, head_size))
        values_lst.append(v_cache[block_number, block_offset])
    keys = torch.stack(keys_lst, dim=0)
    values = torch.stack(values_lst, dim=0)
    if num_queries_per_kv > 1:
        keys = torch.repeat_interleave(keys, num_queries_per_kv, dim=1)
        values = torch.repeat_interleave(values, num_queries_per_kv, dim=1)
    scale = 1.0 / math.sqrt(head_size)
    compute = torch.promote_types(q.dtype, torch.float32)
    attn_weights = scale * torch.einsum("qhd,khd->hqk", q[None], keys).to(compute)
    attn_weights = torch.softmax(attn_weights, dim=-1).to(values.dtype)
    out = torch.einsum("hqk,khd->qhd", attn_weights, values)
    return out[0]
