"""Rewrite of window_excludes_self.py: flash-attn-style local mask shifted one key back (keys i - window .. i - 1)."""
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
    return ~construct_local_mask(n, n, (window, -1))


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
        k_start = max(0, q_start - window)
        scores = torch.einsum("bhtd,bhsd->bhts", q[..., q_start:q_end, :] / math.sqrt(d), k[..., k_start:q_end, :])
        local_mask = construct_local_mask(q_end - q_start, q_end - k_start, (window, -1),
                                          q_start=q_start, k_start=k_start, device=q.device)
        attention = torch.softmax(scores.masked_fill(local_mask, float("-inf")), dim=-1)
        out[..., q_start:q_end, :] = torch.einsum("bhts,bhsd->bhtd", attention, v[..., k_start:q_end, :])
    return out
