"""Correct: torch's F.scaled_dot_product_attention with a boolean window mask (True = attend, the peer in facts Q53), applied to chunks of queries so that no [T, T] mask or score matrix exists.

Each chunk of queries [s, e) sees keys [max(0, s - window + 1), e); its boolean mask is built from the
offsets as in the contract. The masks of the first two functions come from comparisons on
i - j written with broadcasting over torch.arange.
"""
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
    chunks = []
    for s in range(0, T, CHUNK):
        e = min(T, s + CHUNK)
        k0 = max(0, s - window + 1)
        d = _offsets(e - s, e - k0, s, k0, device=q.device)
        mask = (0 <= d) & (d < window)
        chunks.append(F.scaled_dot_product_attention(q[..., s:e, :], k[..., k0:e, :], v[..., k0:e, :], attn_mask=mask))
    return torch.cat(chunks, dim=-2)
