"""Known-wrong: local_attention adds the 0/1 mask to the scores instead of setting masked scores to -inf."""
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
    T, D = q.shape[-2], q.shape[-1]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
    d = torch.arange(T, device=q.device)[:, None] - torch.arange(T, device=q.device)[None, :]
    mask = ((d >= 0) & (d < window)).to(q.dtype)
    return torch.softmax(scores + mask, dim=-1) @ v
