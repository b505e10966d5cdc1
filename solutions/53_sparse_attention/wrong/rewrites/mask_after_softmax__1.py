"""Rewrite of mask_after_softmax.py: softmax under the causal triu mask, then multiplied by sliding_window_causal_mask."""
# quizgen: question 53

import math

import torch


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
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=q.device), diagonal=1)
    probs = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
    probs = probs * sliding_window_causal_mask(T, window).to(device=q.device, dtype=q.dtype)
    return torch.matmul(probs, v)
