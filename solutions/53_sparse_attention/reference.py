"""Reference kernels for question 53: sliding-window and strided (Sparse Transformer) attention patterns.

Conventions follow the contract in `quiz stub 53`. Masks are torch.bool with True meaning
"query i may attend key j", built from the offset d = i - j:
- sliding window (Longformer / Mistral style, causal): 0 <= d < window, i.e. `window` keys, itself included;
- strided (Child et al. 2019, causal): local 0 <= d < stride; strided d >= 0 and d % stride == 0.
local_attention scores each query only against the keys of its window, one offset at a time (offset s is
the key i - s), so its largest intermediate is [B, H, T, window], never [T, T]; scale 1/sqrt(D).
"""

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
