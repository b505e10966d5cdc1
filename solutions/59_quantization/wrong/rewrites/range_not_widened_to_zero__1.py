"""Rewrite of range_not_widened_to_zero.py: float32 tensors of x_min and x_max used as they are, without clamping at 0."""
# quizgen: question 59

# quizgen: question 59

from __future__ import annotations

import torch
from torch import Tensor

EPS = torch.finfo(torch.float32).eps


def _range(x_min: float, x_max: float, qmin: int, qmax: int) -> tuple[Tensor, Tensor]:
    if qmin >= qmax:
        raise ValueError(f"qmin={qmin} must be smaller than qmax={qmax}")
    if x_min > x_max:
        raise ValueError(f"x_min={x_min} must not be larger than x_max={x_max}")
    lo = torch.tensor(x_min, dtype=torch.float32)
    hi = torch.tensor(x_max, dtype=torch.float32)
    return lo, hi


def affine_qparams(x_min: float, x_max: float, qmin: int = 0, qmax: int = 255) -> tuple[float, int]:
    lo, hi = _range(x_min, x_max, qmin, qmax)
    scale = ((hi - lo) / (qmax - qmin)).clamp_min(EPS)
    zp = (qmin - torch.round(lo / scale)).clamp(qmin, qmax)
    return float(scale), int(zp)


def symmetric_qparams(x_min: float, x_max: float, qmin: int = -128, qmax: int = 127) -> tuple[float, int]:
    lo, hi = _range(x_min, x_max, qmin, qmax)
    scale = (torch.maximum(lo.neg(), hi) / ((qmax - qmin) / 2)).clamp_min(EPS)
    return float(scale), 0


def quantize(x: Tensor, scale: float, zero_point: int, qmin: int, qmax: int) -> Tensor:
    if qmin >= qmax:
        raise ValueError(f"qmin={qmin} must be smaller than qmax={qmax}")
    if scale <= 0:
        raise ValueError(f"scale={scale} must be positive")
    return (torch.round(torch.div(x, scale)).to(torch.int64) + zero_point).clamp(qmin, qmax)


def dequantize(q: Tensor, scale: float, zero_point: int) -> Tensor:
    if scale <= 0:
        raise ValueError(f"scale={scale} must be positive")
    return torch.sub(q, zero_point).to(torch.float32) * scale


def quantized_linear(x_q: Tensor, x_scale: float, x_zp: int, w_q: Tensor, w_scale: Tensor,
                     bias: Tensor) -> Tensor:
    A, B = x_q.to(torch.int64), w_q.to(torch.int64)
    n_in = A.shape[1]
    acc = torch.zeros(A.shape[0], B.shape[0], dtype=torch.int64, device=A.device)
    tile = 256
    for k0 in range(0, n_in, tile):
        a, b = A[:, k0:k0 + tile], B[:, k0:k0 + tile]
        if a.is_cuda:   # no integer matmul there: float64 holds every tile's sum exactly
            acc += (a.double() @ b.double().T).round().to(torch.int64)
        else:
            acc += a @ b.T
    acc -= x_zp * B.sum(dim=1)[None, :]          # (A - zp) @ B.T = A @ B.T - zp * rowsum(B)
    return acc.to(torch.float32) * x_scale * w_scale.to(torch.float32) + bias.to(torch.float32)
