"""Correct: a sliding-chunks formulation in the spirit of HF Longformer's _sliding_chunks_query_key_matmul, with Mistral's (fixed) triu/tril mask construction.

The keys are front-padded with window - 1 rows and unfolded into a [B, H, T, D, w] window view (unfold
makes no copy), so each query is scored against its own w keys only: scores [B, H, T, w], with key
t - (w - 1) + c in column c. Columns before position 0 are masked with -inf. The masks are built as
HF's AttentionMaskConverter does after its off-by-one fix: a causal tril minus a tril shifted by -window.
"""
# quizgen: question 53

import math

import torch
import torch.nn.functional as F


def sliding_window_causal_mask(n, window):
    if window < 1:
        raise ValueError(f"sliding window must be >= 1 (window={window})")
    ones = torch.ones(n, n, dtype=torch.bool)
    return torch.tril(ones) & ~torch.tril(ones, diagonal=-window)


def strided_sparse_masks(n, stride):
    if stride < 1:
        raise ValueError(f"stride must be >= 1 (stride={stride})")
    ones = torch.ones(n, n, dtype=torch.bool)
    local = torch.tril(ones) & ~torch.tril(ones, diagonal=-stride)
    offset = torch.arange(n).view(-1, 1) - torch.arange(n).view(1, -1)
    strided = torch.tril(offset.remainder(stride) == 0)
    return local, strided


def local_attention(q, k, v, window):
    if window < 1:
        raise ValueError(f"sliding window must be >= 1 (window={window})")
    T = q.size(-2)
    w = min(window, T)
    k_win = F.pad(k, (0, 0, w - 1, 0)).unfold(-2, w, 1)  # [B, H, T, D, w]: keys t - w + 1 .. t
    v_win = F.pad(v, (0, 0, w - 1, 0)).unfold(-2, w, 1)
    scores = torch.einsum("bhtd,bhtdw->bhtw", q, k_win) / math.sqrt(q.size(-1))
    key_pos = torch.arange(T, device=q.device).view(-1, 1) - (w - 1) + torch.arange(w, device=q.device).view(1, -1)
    scores = scores.masked_fill(key_pos < 0, float("-inf"))
    probs = scores.softmax(dim=-1)
    return torch.einsum("bhtw,bhtdw->bhtd", probs, v_win)
