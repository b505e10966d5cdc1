"""Known-wrong: the window is the `window` keys before the query, without its own key (i - window <= j < i), in the mask and in local_attention."""
# quizgen: question 53

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_window(window: int) -> None:
    if window < 1:
        raise ValueError(f"window must be at least 1, got window={window}")


def _offsets(n: int, device=None) -> Tensor:
    idx = torch.arange(n, device=device)
    return idx[:, None] - idx[None, :]  # d[i, j] = i - j


def sliding_window_causal_mask(n: int, window: int) -> Tensor:
    _check_window(window)
    d = _offsets(n)
    return (d > 0) & (d <= window)


def strided_sparse_masks(n: int, stride: int) -> tuple[Tensor, Tensor]:
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got stride={stride}")
    d = _offsets(n)
    local = (d >= 0) & (d < stride)
    strided = (d >= 0) & (d % stride == 0)
    return local, strided


def local_attention(q: Tensor, k: Tensor, v: Tensor, window: int) -> Tensor:
    _check_window(window)
    T, D = q.shape[-2], q.shape[-1]
    w = min(window, T)
    k_pad = F.pad(k, (0, 0, w, 0))
    v_pad = F.pad(v, (0, 0, w, 0))
    offsets = range(1, w + 1)
    scores = torch.stack([(q * k_pad[..., w - s: w - s + T, :]).sum(-1) for s in offsets], dim=-1) / math.sqrt(D)
    t = torch.arange(T, device=q.device)[:, None]
    s = torch.arange(1, w + 1, device=q.device)[None, :]
    p = torch.softmax(scores.masked_fill(s > t, float("-inf")), dim=-1)
    out = torch.zeros_like(q)
    for c, s_ in enumerate(offsets):
        out = out + p[..., c, None] * v_pad[..., w - s_: w - s_ + T, :]
    return out
