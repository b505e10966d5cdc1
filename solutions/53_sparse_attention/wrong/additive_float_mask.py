"""Known-wrong: sliding_window_causal_mask returns an additive float mask (0 where allowed, -inf elsewhere, HF's 4-D mask style) instead of a bool mask."""
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
    allowed = (d >= 0) & (d < window)
    return torch.zeros(n, n).masked_fill(~allowed, float("-inf"))


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
    w = min(window, T)  # a window longer than the sequence is plain causal attention
    scale = 1.0 / math.sqrt(D)
    # Front-pad keys and values with w - 1 rows: query t at offset s reads padded row t + w - 1 - s.
    k_pad = F.pad(k, (0, 0, w - 1, 0))
    v_pad = F.pad(v, (0, 0, w - 1, 0))
    scores = torch.stack([(q * k_pad[..., w - 1 - s: w - 1 - s + T, :]).sum(-1) for s in range(w)], dim=-1)
    scores = scores * scale                                                  # [B, H, T, w]
    t = torch.arange(T, device=q.device)[:, None]
    s = torch.arange(w, device=q.device)[None, :]
    scores = scores.masked_fill(s > t, float("-inf"))                        # key t - s < 0 does not exist
    p = torch.softmax(scores, dim=-1)                                        # offset 0 is always allowed
    out = torch.zeros_like(q)
    for s_ in range(w):
        out = out + p[..., s_, None] * v_pad[..., w - 1 - s_: w - 1 - s_ + T, :]
    return out
