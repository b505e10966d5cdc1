"""Known-wrong: treats W0 as [in, out] (x @ W0, PEFT's fan_in_fan_out layout) instead of nn.Linear's [out, in] (x @ W0.T)."""
# quizgen: question 54

from __future__ import annotations

import math

import torch
from torch import Tensor


def _check_r(r: int, A: Tensor | None = None) -> None:
    if r < 1:
        raise ValueError(f"r must be >= 1, got r={r}")
    if A is not None and A.shape[0] != r:
        raise ValueError(f"r={r} does not match the rank of A (A.shape[0]={A.shape[0]})")


def lora_linear(x: Tensor, W0: Tensor, b0: Tensor, A: Tensor, B: Tensor, alpha: float, r: int) -> Tensor:
    _check_r(r, A)
    update = torch.nn.functional.linear(torch.nn.functional.linear(x, A), B)
    return x @ W0 + b0 + (alpha / r) * update


def merge_lora(W0: Tensor, A: Tensor, B: Tensor, alpha: float, r: int) -> Tensor:
    _check_r(r, A)
    return W0 + (alpha / r) * (B @ A)


def init_lora(in_features: int, out_features: int, r: int, seed: int) -> tuple[Tensor, Tensor]:
    _check_r(r)
    generator = torch.Generator().manual_seed(seed)
    A = torch.empty(r, in_features, dtype=torch.float32)
    torch.nn.init.kaiming_uniform_(A, a=math.sqrt(5), generator=generator)
    B = torch.zeros(out_features, r, dtype=torch.float32)
    return A, B


def lora_trainable_params(shapes: list[tuple[int, int]], r: int) -> int:
    _check_r(r)
    return sum(r * (int(fan_in) + int(fan_out)) for fan_out, fan_in in shapes)
