"""Reference kernels for question 65: KV-cache sizing and one decoding step of paged attention.

Conventions follow the contract in `quiz stub 65` and vLLM's PagedAttention: the KV cache
is a pool of physical blocks [num_blocks, block_size, Hkv, D]; a sequence's block table maps its
logical block j to physical block block_table[j], so token t sits at (block_table[t // block_size],
t % block_size). Only tokens 0..context_len-1 are read: slots past context_len in the last block and
blocks the table does not reach may hold anything. GQA: query head h reads KV head h // (H // Hkv)
(repeat_interleave, as flash-attn and Llama's repeat_kv). Scale 1/sqrt(D); the result keeps q's
dtype and device. The sizes are Python ints computed in exact integer arithmetic.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def kv_cache_bytes(n_layers: int, n_kv_heads: int, head_dim: int, seq_len: int, batch: int,
                   bytes_per_el: int) -> int:
    return 2 * n_layers * n_kv_heads * head_dim * seq_len * batch * bytes_per_el  # 2: one K and one V


def blocks_needed(seq_lens: list[int], block_size: int) -> int:
    return sum(-(-length // block_size) for length in seq_lens)  # ceil per sequence


def paged_decode_attention(q: Tensor, k_cache: Tensor, v_cache: Tensor, block_table: Tensor,
                           context_len: int) -> Tensor:
    H, D = q.shape
    _, block_size, Hkv, _ = k_cache.shape
    if H % Hkv != 0:
        raise ValueError(f"the query heads H={H} (q.shape[0]) must be a multiple of the KV heads Hkv={Hkv} "
                         "(k_cache.shape[2])")
    capacity = block_table.shape[0] * block_size
    if not 1 <= context_len <= capacity:
        raise ValueError(f"context_len must be in [1, len(block_table) * block_size] = [1, {capacity}], "
                         f"got context_len={context_len}")
    t = torch.arange(context_len, device=block_table.device)
    blocks = block_table[t // block_size]
    slots = t % block_size
    keys = k_cache[blocks, slots]  # [context_len, Hkv, D], logical order
    values = v_cache[blocks, slots]
    group = H // Hkv
    keys = keys.repeat_interleave(group, dim=1)  # [context_len, H, D]: head h reads KV head h // group
    values = values.repeat_interleave(group, dim=1)
    scores = torch.einsum("hd,thd->ht", q, keys) / math.sqrt(D)
    weights = torch.softmax(scores, dim=-1)
    return torch.einsum("ht,thd->hd", weights, values)
