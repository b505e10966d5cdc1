"""Rewrite of float32_mlp.py: casts every weight to float32 once up front, runs the Megatron layers there and casts the output back."""
# quizgen: question 56

# quizgen: question 56

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor


def ensure_divisibility(numerator: int, denominator: int, what: str) -> None:
    if denominator < 1:
        raise ValueError(f"world_size must be a positive number of ranks, got world_size={denominator}")
    if numerator % denominator != 0:
        raise ValueError(f"{what}={numerator} is not divisible by world_size={denominator}")


def divide(numerator: int, denominator: int, what: str) -> int:
    ensure_divisibility(numerator, denominator, what)
    return numerator // denominator


def column_parallel_shards(W: Tensor, b: Tensor, world_size: int) -> list[tuple[Tensor, Tensor]]:
    per_partition = divide(W.size(0), world_size, "W.shape[0]")
    return list(zip(torch.split(W, per_partition, dim=0), torch.split(b, per_partition, dim=0)))


def row_parallel_shards(W: Tensor, world_size: int) -> list[Tensor]:
    per_partition = divide(W.size(1), world_size, "W.shape[1]")
    return list(torch.split(W, per_partition, dim=1))


def _column_parallel_linear(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    return F.linear(x, weight, bias)  # gather_output=False: each rank keeps its slice


def _row_parallel_linear(x_parallel: Tensor, weight: Tensor) -> Tensor:
    return F.linear(x_parallel, weight)  # skip_bias_add: the bias comes after the reduce


def tp_mlp_forward(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, world_size: int) -> Tensor:
    dtype = x.dtype
    x, W1, b1, W2 = (t.to(torch.float32) for t in (x, W1, b1, W2))
    fc1 = column_parallel_shards(W1, b1, world_size)
    fc2 = row_parallel_shards(W2, world_size)
    outputs_parallel = []
    for (weight_1, bias_1), weight_2 in zip(fc1, fc2):
        intermediate_parallel = F.gelu(_column_parallel_linear(x, weight_1, bias_1))
        outputs_parallel.append(_row_parallel_linear(intermediate_parallel, weight_2))
    output_ = functools.reduce(torch.add, outputs_parallel)  # reduce_from_tensor_model_parallel_region
    return output_.to(dtype) + b2


def pipeline_bubble_fraction(p: int, m: int) -> float:
    for name, value in (("p", p), ("m", m)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {name}={value}")
    return float(p - 1) / float(m)


def zero_bytes_per_device(num_params: int, dp_degree: int, stage: int) -> float:
    psi, n_d, k = num_params, dp_degree, 12
    table = {0: (2 + 2 + k) * psi,
             1: 2 * psi + 2 * psi + k * psi / n_d,          # P_os
             2: 2 * psi + (2 + k) * psi / n_d,              # P_os+g
             3: (2 + 2 + k) * psi / n_d}                    # P_os+g+p
    if stage not in table:
        raise ValueError(f"stage must be one of 0, 1, 2, 3, got stage={stage!r}")
    return float(table[stage])
