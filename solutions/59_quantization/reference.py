"""Reference kernels for question 59: affine and symmetric int8 quantization, and an int8 linear layer.

Conventions follow the contract in `quiz stub 59`, which follows PyTorch's
MinMaxObserver._calculate_qparams (torch/ao/quantization/observer.py): the range is widened to include
0, the parameters are computed in float32 (so affine_qparams(-1.0, 1.0) gives zero point 127, not 128),
the float32 eps is the smallest scale, and the symmetric denominator is (qmax - qmin) / 2 = 127.5 for
int8. Quantization rounds half to even (torch.round, ATen's nearbyint) after dividing in x's dtype and
before adding the zero point, then clamps. The quantized linear layer accumulates in int64 (in float64
on CUDA, where there is no int64 matmul; exact below 2**53), then rescales in float32.
"""

from __future__ import annotations

import torch
from torch import Tensor

EPS32 = torch.finfo(torch.float32).eps


def _check_range(qmin: int, qmax: int) -> None:
    if qmin >= qmax:
        raise ValueError(f"qmin must be smaller than qmax, got qmin={qmin}, qmax={qmax}")


def _check_minmax(x_min: float, x_max: float) -> None:
    if x_min > x_max:
        raise ValueError(f"x_min must not exceed x_max, got x_min={x_min}, x_max={x_max}")


def _check_scale(scale: float) -> None:
    if not scale > 0:
        raise ValueError(f"scale must be positive, got scale={scale}")


def _f32(value: float) -> Tensor:
    return torch.tensor(float(value), dtype=torch.float32)


def affine_qparams(x_min: float, x_max: float, qmin: int = 0, qmax: int = 255) -> tuple[float, int]:
    _check_range(qmin, qmax)
    _check_minmax(x_min, x_max)
    min_neg = torch.clamp(_f32(x_min), max=0.0)
    max_pos = torch.clamp(_f32(x_max), min=0.0)
    scale = torch.clamp((max_pos - min_neg) / float(qmax - qmin), min=EPS32)
    zero_point = qmin - int(torch.round(min_neg / scale))
    return float(scale), int(min(max(zero_point, qmin), qmax))


def symmetric_qparams(x_min: float, x_max: float, qmin: int = -128, qmax: int = 127) -> tuple[float, int]:
    _check_range(qmin, qmax)
    _check_minmax(x_min, x_max)
    min_neg = torch.clamp(_f32(x_min), max=0.0)
    max_pos = torch.clamp(_f32(x_max), min=0.0)
    scale = torch.clamp(torch.maximum(-min_neg, max_pos) / (float(qmax - qmin) / 2), min=EPS32)
    return float(scale), 0


def quantize(x: Tensor, scale: float, zero_point: int, qmin: int, qmax: int) -> Tensor:
    _check_range(qmin, qmax)
    _check_scale(scale)
    q = torch.round(x / scale).to(torch.int64) + zero_point
    return torch.clamp(q, qmin, qmax)


def dequantize(q: Tensor, scale: float, zero_point: int) -> Tensor:
    _check_scale(scale)
    return (q - zero_point).to(torch.float32) * scale


def quantized_linear(x_q: Tensor, x_scale: float, x_zp: int, w_q: Tensor, w_scale: Tensor,
                     bias: Tensor) -> Tensor:
    x_int = x_q.to(torch.int64) - x_zp
    w_int = w_q.to(torch.int64)
    if x_int.is_cuda:  # no int64 matmul on CUDA: float64 holds these integer sums exactly
        acc = (x_int.to(torch.float64) @ w_int.to(torch.float64).T).to(torch.int64)
    else:
        acc = x_int @ w_int.T
    return acc.to(torch.float32) * x_scale * w_scale.to(torch.float32) + bias.to(torch.float32)
