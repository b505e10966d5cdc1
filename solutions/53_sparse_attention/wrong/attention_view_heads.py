"""Known-wrong: local_attention merges batch and heads with q.view(B * H, T, D), which raises for non-contiguous q, k or v."""
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
    return (d >= 0) & (d < window)


def strided_sparse_masks(n: int, stride: int) -> tuple[Tensor, Tensor]:
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got stride={stride}")
    d = _offsets(n)
    local = (d >= 0) & (d < stride)
    strided = (d >= 0) & (d % stride == 0)
    return local, strided


def local_attention(q: Tensor, k: Tensor, v: Tensor, window: int) -> Tensor:
    _check_window(window)
    B, H, T, D = q.shape
    q3, k3, v3 = q.view(B * H, T, D), k.view(B * H, T, D), v.view(B * H, T, D)
    w = min(window, T)
    k_pad = F.pad(k3, (0, 0, w - 1, 0))
    v_pad = F.pad(v3, (0, 0, w - 1, 0))
    scores = torch.stack([(q3 * k_pad[:, w - 1 - s: w - 1 - s + T, :]).sum(-1) for s in range(w)], dim=-1)
    scores = scores / math.sqrt(D)
    t = torch.arange(T, device=q.device)[:, None]
    s = torch.arange(w, device=q.device)[None, :]
    p = torch.softmax(scores.masked_fill(s > t, float("-inf")), dim=-1)
    out = sum(p[..., s_, None] * v_pad[:, w - 1 - s_: w - 1 - s_ + T, :] for s_ in range(w))
    return out.view(B, H, T, D)
