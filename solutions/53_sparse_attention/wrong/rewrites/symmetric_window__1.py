"""Rewrite of symmetric_window.py: SDPA over query chunks with the band |i - j| < window (keys after the query too)."""
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
    return _offsets(n, n).abs() < window


def strided_sparse_masks(n: int, stride: int):
    if stride < 1:
        raise ValueError("stride < 1: got stride=%d" % stride)
    d = _offsets(n, n)
    return (0 <= d) & (d < stride), (0 <= d) & (torch.fmod(d, stride) == 0)


def local_attention(q, k, v, window: int):
    if window < 1:
        raise ValueError("window < 1: got window=%d" % window)
    T = q.shape[-2]
    chunks = []
    for s in range(0, T, CHUNK):
        e = min(T, s + CHUNK)
        k0, k1 = max(0, s - window + 1), min(T, e + window - 1)
        mask = _offsets(e - s, k1 - k0, s, k0, device=q.device).abs() < window
        chunks.append(F.scaled_dot_product_attention(q[..., s:e, :], k[..., k0:k1, :], v[..., k0:k1, :], attn_mask=mask))
    return torch.cat(chunks, dim=-2)
