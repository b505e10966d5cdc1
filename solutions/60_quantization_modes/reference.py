"""Reference kernels for question 60: static (calibrated) versus dynamic (per-input) quantization ranges.

Conventions follow the contract in `quiz stub 60`, built on task 59's rules, which this
file defines again itself (a submission is one file): affine parameters as torch's MinMaxObserver in
float32 (range widened to include 0, float32 eps as the smallest scale), quantization with
round-half-to-even after dividing in x's dtype, then clamping. calibrate_static is a MinMax observer:
the running min and max over ALL batches (not a moving average, not the last batch). Dynamic
quantization takes the parameters from the input itself, per tensor. dynamic_quantized_linear returns
float32 [N, out], as task 59's quantized_linear does.
"""

from __future__ import annotations

import torch
from torch import Tensor

EPS32 = torch.finfo(torch.float32).eps


def _affine_qparams(x_min: float, x_max: float, qmin: int, qmax: int) -> tuple[float, int]:
    if qmin >= qmax:
        raise ValueError(f"qmin must be smaller than qmax, got qmin={qmin}, qmax={qmax}")
    min_neg = torch.clamp(torch.tensor(float(x_min), dtype=torch.float32), max=0.0)
    max_pos = torch.clamp(torch.tensor(float(x_max), dtype=torch.float32), min=0.0)
    scale = torch.clamp((max_pos - min_neg) / float(qmax - qmin), min=EPS32)
    zero_point = qmin - int(torch.round(min_neg / scale))
    return float(scale), int(min(max(zero_point, qmin), qmax))


def _quantize(x: Tensor, scale: float, zero_point: int, qmin: int, qmax: int) -> Tensor:
    return torch.clamp(torch.round(x / scale).to(torch.int64) + zero_point, qmin, qmax)


def calibrate_static(batches: list[Tensor], qmin: int = 0, qmax: int = 255) -> tuple[float, int]:
    if len(batches) == 0:
        raise ValueError("batches must hold at least one tensor")
    x_min = min(float(b.min()) for b in batches)
    x_max = max(float(b.max()) for b in batches)
    return _affine_qparams(x_min, x_max, qmin, qmax)


def fake_quant_static(x: Tensor, scale: float, zero_point: int, qmin: int = 0, qmax: int = 255) -> Tensor:
    q = _quantize(x, scale, zero_point, qmin, qmax)
    return (q - zero_point).to(x.dtype) * scale


def fake_quant_dynamic(x: Tensor, qmin: int = 0, qmax: int = 255) -> Tensor:
    scale, zero_point = _affine_qparams(float(x.min()), float(x.max()), qmin, qmax)
    return fake_quant_static(x, scale, zero_point, qmin, qmax)


def dynamic_quantized_linear(x: Tensor, w_q: Tensor, w_scale: Tensor, bias: Tensor) -> Tensor:
    x_scale, x_zp = _affine_qparams(float(x.min()), float(x.max()), 0, 255)
    x_int = _quantize(x, x_scale, x_zp, 0, 255) - x_zp
    w_int = w_q.to(torch.int64)
    if x_int.is_cuda:  # no int64 matmul on CUDA: float64 holds these integer sums exactly
        acc = (x_int.to(torch.float64) @ w_int.to(torch.float64).T).to(torch.int64)
    else:
        acc = x_int @ w_int.T
    return acc.to(torch.float32) * x_scale * w_scale.to(torch.float32) + bias.to(torch.float32)
