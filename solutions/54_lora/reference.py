"""Reference kernels for question 54: LoRA adapters (forward, merge, initialization, parameter count).

Conventions follow the contract in `quiz stub 54` and loralib / peft's LoRA Linear:
the scaling is alpha / r (not rsLoRA's alpha / sqrt(r)); A [r, in] starts from
kaiming_uniform_(a=sqrt(5)) (uniform in +-1/sqrt(in)) and B [out, r] from zeros, so the adapted
layer equals the frozen one at step 0. Nothing is detached: gradients reach x, A and B.
"""

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
    base = torch.nn.functional.linear(x, W0, b0)
    update = torch.nn.functional.linear(torch.nn.functional.linear(x, A), B)  # (x @ A.T) @ B.T, never B @ A
    return base + (alpha / r) * update


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
