"""Rewrite of no_clamp.py: ATen-style quantize that returns the codes before clamping."""
# quizgen: question 59

# quizgen: question 59

from __future__ import annotations

import torch
from torch import Tensor

_EPS = torch.tensor([torch.finfo(torch.float32).eps], dtype=torch.float32)


def _validate(quant_min: int, quant_max: int, min_val: float, max_val: float) -> None:
    if not quant_min < quant_max:
        raise ValueError(f"qmin ({quant_min}) must be less than qmax ({quant_max})")
    if min_val > max_val:
        raise ValueError(f"min {min_val} is larger than max {max_val}: need x_min <= x_max")


def _min_max(x_min: float, x_max: float) -> tuple[Tensor, Tensor]:
    min_val = torch.tensor([x_min], dtype=torch.float32)
    max_val = torch.tensor([x_max], dtype=torch.float32)
    return torch.min(min_val, torch.zeros_like(min_val)), torch.max(max_val, torch.zeros_like(max_val))


def affine_qparams(x_min: float, x_max: float, qmin: int = 0, qmax: int = 255) -> tuple[float, int]:
    _validate(qmin, qmax, x_min, x_max)
    min_val_neg, max_val_pos = _min_max(x_min, x_max)
    scale = (max_val_pos - min_val_neg) / float(qmax - qmin)
    scale = torch.max(scale, _EPS)
    zero_point = qmin - torch.round(min_val_neg / scale).to(torch.int)
    zero_point = torch.clamp(zero_point, qmin, qmax)
    return scale.item(), int(zero_point.item())


def symmetric_qparams(x_min: float, x_max: float, qmin: int = -128, qmax: int = 127) -> tuple[float, int]:
    _validate(qmin, qmax, x_min, x_max)
    min_val_neg, max_val_pos = _min_max(x_min, x_max)
    max_val_pos = torch.max(-min_val_neg, max_val_pos)
    scale = max_val_pos / (float(qmax - qmin) / 2)
    scale = torch.max(scale, _EPS)
    return scale.item(), 0


def quantize(x: Tensor, scale: float, zero_point: int, qmin: int, qmax: int) -> Tensor:
    if qmin >= qmax:
        raise ValueError(f"qmin must be < qmax, got qmin={qmin} and qmax={qmax}")
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got scale={scale}")
    inv_scale = 1.0 / scale
    qvalue = torch.round(x * inv_scale).to(torch.int64) + zero_point   # nearbyint: half to even
    return qvalue


def dequantize(q: Tensor, scale: float, zero_point: int) -> Tensor:
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got scale={scale}")
    return (q.to(torch.int64) - zero_point).to(torch.float32) * scale


def quantized_linear(x_q: Tensor, x_scale: float, x_zp: int, w_q: Tensor, w_scale: Tensor,
                     bias: Tensor) -> Tensor:
    a = x_q.to(torch.int64) - x_zp
    b = w_q.to(torch.int64)
    if a.is_cuda:
        acc = torch.matmul(a.double(), b.double().t()).round().long()
    else:
        acc = torch.matmul(a, b.t())
    return acc.float() * x_scale * w_scale.float()[None, :] + bias.float()[None, :]
