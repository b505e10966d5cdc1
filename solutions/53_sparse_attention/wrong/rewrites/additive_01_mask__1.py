"""Rewrite of additive_01_mask.py: passes the window mask to SDPA as a float 0/1 tensor, which SDPA adds to the scores."""
# quizgen: question 53

import torch
import torch.nn.functional as F

CHUNK = 128


def _offsets(n_q, n_k, q0=0, k0=0, device=None):
    i = torch.arange(q0, q0 + n_q, device=device)[:, None]
    j = torch.arange(k0, k0 + n_k, device=device)[None, :]
    return i - j


def sliding_window_causal_mask(n: int, window: int):
    if window < 1:
        raise ValueError("window < 1: got window=%d" % window)
    d = _offsets(n, n)
    return (0 <= d) & (d < window)


def strided_sparse_masks(n: int, stride: int):
    if stride < 1:
        raise ValueError("stride < 1: got stride=%d" % stride)
    d = _offsets(n, n)
    return (0 <= d) & (d < stride), (0 <= d) & (torch.fmod(d, stride) == 0)


def local_attention(q, k, v, window: int):
    if window < 1:
        raise ValueError("window < 1: got window=%d" % window)
    T = q.shape[-2]
    d = _offsets(T, T, device=q.device)
    mask = ((0 <= d) & (d < window)).to(q.dtype)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
