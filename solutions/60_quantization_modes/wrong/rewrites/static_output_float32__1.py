"""Rewrite of static_output_float32.py: the codes are cast to float32 before the rescale."""
# quizgen: question 60

# quizgen: question 60

from __future__ import annotations

import torch
from torch import Tensor


class _MinMaxObserver:
    def __init__(self, quant_min: int, quant_max: int):
        self.quant_min, self.quant_max = quant_min, quant_max
        self.min_val = torch.tensor(float("inf"))
        self.max_val = torch.tensor(float("-inf"))
        self.eps = torch.tensor([torch.finfo(torch.float32).eps])

    def forward(self, x_orig: Tensor) -> Tensor:
        x = x_orig.detach().to("cpu", torch.float32)
        self.min_val = torch.min(x.min(), self.min_val)
        self.max_val = torch.max(x.max(), self.max_val)
        return x_orig

    def calculate_qparams(self) -> tuple[float, int]:
        min_val_neg = torch.min(self.min_val, torch.zeros_like(self.min_val))
        max_val_pos = torch.max(self.max_val, torch.zeros_like(self.max_val))
        scale = (max_val_pos - min_val_neg) / float(self.quant_max - self.quant_min)
        scale = torch.max(scale, self.eps)
        zero_point = self.quant_min - torch.round(min_val_neg / scale).to(torch.int)
        zero_point = torch.clamp(zero_point, self.quant_min, self.quant_max)
        return float(scale), int(zero_point)


def calibrate_static(batches: list[Tensor], qmin: int = 0, qmax: int = 255) -> tuple[float, int]:
    observer = _MinMaxObserver(qmin, qmax)
    for batch in batches:
        observer.forward(batch)
    return observer.calculate_qparams()


def fake_quant_static(x: Tensor, scale: float, zero_point: int, qmin: int = 0, qmax: int = 255) -> Tensor:
    q = torch.clamp(torch.round(x / scale) + zero_point, qmin, qmax)
    return (q - zero_point).float() * scale


def fake_quant_dynamic(x: Tensor, qmin: int = 0, qmax: int = 255) -> Tensor:
    observer = _MinMaxObserver(qmin, qmax)
    observer.forward(x)
    scale, zero_point = observer.calculate_qparams()
    return fake_quant_static(x, scale, zero_point, qmin, qmax)


def dynamic_quantized_linear(x: Tensor, w_q: Tensor, w_scale: Tensor, bias: Tensor) -> Tensor:
    observer = _MinMaxObserver(0, 255)
    observer.forward(x)
    x_scale, x_zp = observer.calculate_qparams()
    x_q = torch.clamp(torch.round(x / x_scale) + x_zp, 0, 255).to(torch.int64)
    a, b = x_q - x_zp, w_q.to(torch.int64)
    acc = (a.double() @ b.double().T).round().long() if a.is_cuda else a @ b.T
    return acc.float() * x_scale * w_scale.float() + bias.float()
