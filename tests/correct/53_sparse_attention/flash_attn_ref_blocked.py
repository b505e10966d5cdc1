"""Correct: adapted from flash-attn's test reference (tests/test_flash_attn.py: construct_local_mask and attention_ref), run one block of queries at a time.

flash-attn's window_size=(left, right) keeps keys j with i - left <= j <= i + right (plus sk - sq,
zero here); a causal window of `window` keys is window_size=(window - 1, 0). attention_ref builds the
full [T, T] score matrix; here each block of 64 queries is scored only against the keys its window can
reach, so no intermediate grows with T * T. Masked scores are -inf before the softmax, as in attention_ref.
"""
# quizgen: question 53

import math

import torch

BLOCK = 64


def construct_local_mask(seqlen_q, seqlen_k, window_size, q_start=0, k_start=0, device=None):
    """True where the key is OUTSIDE the window (flash-attn's convention), for query rows
    q_start.. and key columns k_start.. of the full [seqlen_q, seqlen_k] pattern."""
    row_idx = torch.arange(q_start, q_start + seqlen_q, device=device).unsqueeze(-1)
    col_idx = torch.arange(k_start, k_start + seqlen_k, device=device)
    return (col_idx > row_idx + window_size[1]) | (col_idx < row_idx - window_size[0])


def _check(name, value):
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {name}={value}")


def sliding_window_causal_mask(n, window):
    _check("window", window)
    return ~construct_local_mask(n, n, (window - 1, 0))


def strided_sparse_masks(n, stride):
    _check("stride", stride)
    row_idx = torch.arange(n).unsqueeze(-1)
    col_idx = torch.arange(n)
    causal = col_idx <= row_idx
    local = causal & (row_idx - col_idx < stride)
    strided = causal & ((row_idx - col_idx) % stride == 0)
    return local, strided


def local_attention(q, k, v, window):
    _check("window", window)
    T, d = q.shape[-2], q.shape[-1]
    out = torch.empty_like(q, memory_format=torch.contiguous_format)
    for q_start in range(0, T, BLOCK):
        q_end = min(q_start + BLOCK, T)
        k_start = max(0, q_start - window + 1)
        q_blk = q[..., q_start:q_end, :]
        k_blk, v_blk = k[..., k_start:q_end, :], v[..., k_start:q_end, :]
        scores = torch.einsum("bhtd,bhsd->bhts", q_blk / math.sqrt(d), k_blk)
        local_mask = construct_local_mask(q_end - q_start, q_end - k_start, (window - 1, 0),
                                          q_start=q_start, k_start=k_start, device=q.device)
        scores = scores.masked_fill(local_mask, float("-inf"))
        attention = torch.softmax(scores, dim=-1)
        out[..., q_start:q_end, :] = torch.einsum("bhts,bhsd->bhtd", attention, v_blk)
    return out
