"""Rewrite of no_saturation.py: quantize_affine without the clamp to [qmin, qmax]."""
# quizgen: question 60

# quizgen: question 60

from __future__ import annotations

import functools

import torch
from torch import Tensor

F32_EPS = torch.finfo(torch.float32).eps


def _choose_qparams(lo: float, hi: float, quant_min: int, quant_max: int) -> tuple[float, int]:
    min_neg = torch.tensor(lo, dtype=torch.float32).clamp(max=0)
    max_pos = torch.tensor(hi, dtype=torch.float32).clamp(min=0)
    scale = torch.clamp((max_pos - min_neg) / (quant_max - quant_min), min=F32_EPS)
    zero_point = quant_min - torch.round(min_neg / scale)
    return scale.item(), int(zero_point.clamp(quant_min, quant_max).item())


def _range(t: Tensor) -> tuple[float, float]:
    lo, hi = torch.aminmax(t)
    return float(lo), float(hi)


def _fold(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return min(a[0], b[0]), max(a[1], b[1])


def _quantize_affine(x: Tensor, scale: float, zero_point: int, quant_min: int, quant_max: int) -> Tensor:
    return torch.round(x / scale).to(torch.int64) + zero_point


def _dequantize_affine(q: Tensor, scale: float, zero_point: int, dtype: torch.dtype) -> Tensor:
    return (q - zero_point).to(dtype) * scale


def calibrate_static(batches: list[Tensor], qmin: int = 0, qmax: int = 255) -> tuple[float, int]:
    lo, hi = functools.reduce(_fold, (_range(b) for b in batches))
    return _choose_qparams(lo, hi, qmin, qmax)


def fake_quant_static(x: Tensor, scale: float, zero_point: int, qmin: int = 0, qmax: int = 255) -> Tensor:
    return _dequantize_affine(_quantize_affine(x, scale, zero_point, qmin, qmax), scale, zero_point, x.dtype)


def fake_quant_dynamic(x: Tensor, qmin: int = 0, qmax: int = 255) -> Tensor:
    scale, zero_point = _choose_qparams(*_range(x), qmin, qmax)
    return fake_quant_static(x, scale, zero_point, qmin, qmax)


def dynamic_quantized_linear(x: Tensor, w_q: Tensor, w_scale: Tensor, bias: Tensor) -> Tensor:
    x_scale, x_zp = _choose_qparams(*_range(x), 0, 255)
    x_int = _quantize_affine(x, x_scale, x_zp, 0, 255) - x_zp
    if x_int.is_cuda:
        acc = torch.einsum("ni,oi->no", x_int.double(), w_q.double()).round().to(torch.int64)
    else:
        acc = torch.einsum("ni,oi->no", x_int, w_q.to(torch.int64))
    out = acc.to(torch.float32) * torch.tensor(x_scale, dtype=torch.float32)
    return out * w_scale.to(torch.float32).unsqueeze(0) + bias.to(torch.float32).unsqueeze(0)
