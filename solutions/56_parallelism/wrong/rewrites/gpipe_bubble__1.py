"""Rewrite of gpipe_bubble.py: the bubble as the idle share of the whole GPipe run, 1 - m / (m + p - 1)."""
# quizgen: question 56

# quizgen: question 56

from __future__ import annotations

import math

import torch
from torch import Tensor


def column_parallel_shards(W: Tensor, b: Tensor, world_size: int) -> list[tuple[Tensor, Tensor]]:
    if world_size <= 0:
        raise ValueError(f"world_size={world_size}: there must be at least one rank")
    out = W.shape[0]
    if out % world_size != 0:
        raise ValueError(f"W has {out} output rows; world_size={world_size} does not divide them")
    s = out // world_size
    return [(W.narrow(0, r * s, s), b.narrow(0, r * s, s)) for r in range(world_size)]


def row_parallel_shards(W: Tensor, world_size: int) -> list[Tensor]:
    if world_size <= 0:
        raise ValueError(f"world_size={world_size}: there must be at least one rank")
    n_in = W.shape[1]
    if n_in % world_size != 0:
        raise ValueError(f"W has {n_in} input columns; world_size={world_size} does not divide them")
    s = n_in // world_size
    return [W.narrow(1, r * s, s) for r in range(world_size)]


def _gelu(t: Tensor) -> Tensor:
    return 0.5 * t * (1.0 + torch.erf(t / math.sqrt(2.0)))


def tp_mlp_forward(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, world_size: int) -> Tensor:
    if world_size >= 1 and W1.shape[0] % world_size != 0:
        raise ValueError(f"W1 has {W1.shape[0]} hidden units, not a multiple of world_size={world_size}")
    fc1 = column_parallel_shards(W1, b1, world_size)
    fc2 = row_parallel_shards(W2, world_size)
    total = None
    for (W1_r, b1_r), W2_r in zip(fc1, fc2):
        y_r = torch.addmm(b1_r, x, W1_r.t())
        z_r = torch.addmm(b2 / world_size, _gelu(y_r), W2_r.t())
        total = z_r if total is None else total + z_r
    return total


def pipeline_bubble_fraction(p: int, m: int) -> float:
    if min(p, m) < 1:
        raise ValueError(f"p and m must both be >= 1, got p={p}, m={m}")
    t_ideal = m            # m micro-batches of one unit each
    t_bubble = p - 1       # fill and drain
    return 1 - t_ideal / (t_ideal + t_bubble)


def zero_bytes_per_device(num_params: int, dp_degree: int, stage: int) -> float:
    P, N = num_params, dp_degree
    if stage == 0:
        return 16.0 * P
    elif stage == 1:
        return 4.0 * P + 12.0 * P / N
    elif stage == 2:
        return 2.0 * P + 14.0 * P / N
    elif stage == 3:
        return 16.0 * P / N
    raise ValueError(f"unknown ZeRO stage={stage}")
