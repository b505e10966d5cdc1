"""Rewrite of affine_default_signed.py: float32 scalars via struct, affine defaults qmin=-128, qmax=127."""
# quizgen: question 59

# quizgen: question 59

from __future__ import annotations

import struct

import torch
from torch import Tensor

FLT_EPSILON = 1.1920928955078125e-07


def f32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _check(x_min: float, x_max: float, qmin: int, qmax: int) -> None:
    if qmin >= qmax:
        raise ValueError(f"need qmin < qmax (qmin={qmin}, qmax={qmax})")
    if x_min > x_max:
        raise ValueError(f"need x_min <= x_max (x_min={x_min}, x_max={x_max})")


def affine_qparams(x_min: float, x_max: float, qmin: int = -128, qmax: int = 127) -> tuple[float, int]:
    _check(x_min, x_max, qmin, qmax)
    rmin, rmax = min(f32(x_min), 0.0), max(f32(x_max), 0.0)
    scale = max(f32(f32(rmax - rmin) / f32(float(qmax - qmin))), FLT_EPSILON)
    initial = f32(rmin / scale)
    zero_point = qmin - round(initial)
    return scale, min(max(zero_point, qmin), qmax)


def symmetric_qparams(x_min: float, x_max: float, qmin: int = -128, qmax: int = 127) -> tuple[float, int]:
    _check(x_min, x_max, qmin, qmax)
    rmin, rmax = min(f32(x_min), 0.0), max(f32(x_max), 0.0)
    half_range = f32(f32(float(qmax - qmin)) / 2.0)
    return max(f32(max(-rmin, rmax) / half_range), FLT_EPSILON), 0


def _round_half_even(v: Tensor) -> Tensor:
    r = torch.floor(v + 0.5)
    tie_to_odd = (r - v == 0.5) & (torch.remainder(r, 2) == 1)
    return r - tie_to_odd.to(v.dtype)


def quantize(x: Tensor, scale: float, zero_point: int, qmin: int, qmax: int) -> Tensor:
    if qmin >= qmax:
        raise ValueError(f"need qmin < qmax (qmin={qmin}, qmax={qmax})")
    if not scale > 0:
        raise ValueError(f"need scale > 0 (scale={scale})")
    codes = _round_half_even(x / scale).long() + zero_point
    return codes.clamp(min=qmin, max=qmax)


def dequantize(q: Tensor, scale: float, zero_point: int) -> Tensor:
    if not scale > 0:
        raise ValueError(f"need scale > 0 (scale={scale})")
    return (q - zero_point).float().mul(scale)


def quantized_linear(x_q: Tensor, x_scale: float, x_zp: int, w_q: Tensor, w_scale: Tensor,
                     bias: Tensor) -> Tensor:
    x_int = x_q.long() - x_zp                               # [N, in]
    acc = (x_int[:, None, :] * w_q.long()[None, :, :]).sum(dim=-1)   # [N, out], exact in int64
    return acc.float() * x_scale * w_scale.float() + bias.float()
