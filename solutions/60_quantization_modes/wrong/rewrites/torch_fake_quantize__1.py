"""Rewrite of torch_fake_quantize.py: torch.fake_quantize_per_tensor_affine for every dtype, float64 included."""
# quizgen: question 60

# quizgen: question 60

from __future__ import annotations

import math

import torch
from torch import Tensor


def _qparams(lo: float, hi: float, qmin: int, qmax: int) -> tuple[float, int]:
    lo32 = torch.tensor([min(lo, 0.0)], dtype=torch.float32)
    hi32 = torch.tensor([max(hi, 0.0)], dtype=torch.float32)
    scale = torch.maximum((hi32 - lo32) / float(qmax - qmin), torch.tensor([torch.finfo(torch.float32).eps]))
    zp = qmin - int(torch.round(lo32 / scale)[0])
    return float(scale[0]), max(qmin, min(qmax, zp))


def calibrate_static(batches: list[Tensor], qmin: int = 0, qmax: int = 255) -> tuple[float, int]:
    running_min, running_max = math.inf, -math.inf
    for batch in batches:
        running_min = min(running_min, batch.min().item())
        running_max = max(running_max, batch.max().item())
    return _qparams(running_min, running_max, qmin, qmax)


def fake_quant_static(x: Tensor, scale: float, zero_point: int, qmin: int = 0, qmax: int = 255) -> Tensor:
    return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, qmin, qmax)


def fake_quant_dynamic(x: Tensor, qmin: int = 0, qmax: int = 255) -> Tensor:
    scale, zero_point = _qparams(x.min().item(), x.max().item(), qmin, qmax)
    return fake_quant_static(x, scale, zero_point, qmin, qmax)


def dynamic_quantized_linear(x: Tensor, w_q: Tensor, w_scale: Tensor, bias: Tensor) -> Tensor:
    x_scale, x_zp = _qparams(x.min().item(), x.max().item(), 0, 255)
    x_q = (x / x_scale).round().add(x_zp).clamp(0, 255).long()
    rows = []
    for row in x_q - x_zp:                               # one output row at a time, int64 dot products
        rows.append((row[None, :] * w_q.long()).sum(dim=1))
    acc = torch.stack(rows)
    return acc.float() * x_scale * w_scale.float() + bias.float()
