"""Rewrite of zero_stage2_unsharded_grads.py: the component table shards the gradients only from stage 3 on."""
# quizgen: question 56

# quizgen: question 56

from __future__ import annotations

from fractions import Fraction

import torch
import torch.nn.functional as F
from torch import Tensor


def _check(size: int, world_size: int, dim_name: str) -> None:
    if world_size < 1:
        raise ValueError(f"need world_size >= 1 (got world_size={world_size})")
    if size % world_size:
        raise ValueError(f"W: {dim_name} features {size} cannot be split evenly over world_size={world_size}")


def column_parallel_shards(W: Tensor, b: Tensor, world_size: int) -> list[tuple[Tensor, Tensor]]:
    _check(W.shape[0], world_size, "out")
    return list(zip(torch.tensor_split(W, world_size, dim=0), torch.tensor_split(b, world_size, dim=0)))


def row_parallel_shards(W: Tensor, world_size: int) -> list[Tensor]:
    _check(W.shape[1], world_size, "in")
    return list(torch.tensor_split(W, world_size, dim=1))


def tp_mlp_forward(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, world_size: int) -> Tensor:
    _check(W1.shape[0], world_size, "out")
    hidden, d = W1.shape
    s = hidden // world_size
    W1_r = W1.reshape(world_size, s, d)                    # rank r holds rows r*s..(r+1)*s-1
    b1_r = b1.reshape(world_size, 1, s)
    W2_r = W2.reshape(d, world_size, s)                    # rank r holds the matching columns of W2
    h = F.gelu(torch.einsum("nd,rsd->rns", x, W1_r) + b1_r)
    partial = torch.einsum("rns,drs->rnd", h, W2_r)        # each rank's full-size partial output
    bias = torch.zeros_like(partial)
    bias[0] = b2                                           # only rank 0 adds the bias
    return (partial + bias).sum(dim=0)                     # the all-reduce


def pipeline_bubble_fraction(p: int, m: int) -> float:
    if p < 1:
        raise ValueError(f"p must be >= 1, got p={p}")
    if m < 1:
        raise ValueError(f"m must be >= 1, got m={m}")
    # GPipe forward: stage s works on micro-batch j at time step s + j; idle steps relative to busy ones.
    steps = m + p - 1
    busy = {(s, s + j) for s in range(p) for j in range(m)}
    idle = sum(1 for s in range(p) for t in range(steps) if (s, t) not in busy)
    return float(Fraction(idle, p * m))


def zero_bytes_per_device(num_params: int, dp_degree: int, stage: int) -> float:
    if stage not in (0, 1, 2, 3):
        raise ValueError(f"stage={stage} is not a ZeRO stage (0..3)")
    parts = {"fp16 params": (2, 3), "fp16 grads": (2, 3), "fp32 optimizer states": (12, 1)}
    total = Fraction(0)
    for bytes_per_param, sharded_from in parts.values():
        share = Fraction(bytes_per_param * num_params, dp_degree if stage >= sharded_from else 1)
        total += share
    return float(total)
