"""Reference kernels for question 56: Megatron tensor parallelism, pipeline bubbles, ZeRO memory.

Conventions follow the contract in `quiz stub 56` and Megatron-LM's
ColumnParallelLinear / RowParallelLinear on PyTorch's [out, in] weights: a column-parallel layer
splits W (and b) along dim 0 into contiguous equal shards, rank i taking rows i*out/p..(i+1)*out/p;
a row-parallel layer splits W along dim 1. The MLP applies the exact (erf) GELU per rank, sums the
ranks' partial outputs once (the all-reduce) and adds b2 once after the sum. The bubble fraction is
Megatron's (p - 1) / m, relative to ideal compute; ZeRO counts mixed-precision Adam model states
(2 + 2 + 12 bytes per parameter).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_world_size(world_size: int) -> None:
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got world_size={world_size}")


def column_parallel_shards(W: Tensor, b: Tensor, world_size: int) -> list[tuple[Tensor, Tensor]]:
    _check_world_size(world_size)
    out_features = W.shape[0]
    if out_features % world_size != 0:
        raise ValueError(f"W has out={out_features} rows, not divisible by world_size={world_size}")
    size = out_features // world_size
    return [(W[i * size:(i + 1) * size], b[i * size:(i + 1) * size]) for i in range(world_size)]


def row_parallel_shards(W: Tensor, world_size: int) -> list[Tensor]:
    _check_world_size(world_size)
    in_features = W.shape[1]
    if in_features % world_size != 0:
        raise ValueError(f"W has in={in_features} columns, not divisible by world_size={world_size}")
    size = in_features // world_size
    return [W[:, i * size:(i + 1) * size] for i in range(world_size)]


def tp_mlp_forward(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, world_size: int) -> Tensor:
    fc1 = column_parallel_shards(W1, b1, world_size)   # rank i: hidden units of slice i
    fc2 = row_parallel_shards(W2, world_size)          # rank i: the same hidden slice as input
    partials = [F.gelu(F.linear(x, W1_i, b1_i)) @ W2_i.T for (W1_i, b1_i), W2_i in zip(fc1, fc2)]
    reduced = torch.stack(partials).sum(dim=0)          # the one all-reduce (SUM) of the forward
    return reduced + b2                                 # the bias is not parallelized: added once


def pipeline_bubble_fraction(p: int, m: int) -> float:
    if p < 1:
        raise ValueError(f"p (pipeline stages) must be >= 1, got p={p}")
    if m < 1:
        raise ValueError(f"m (micro-batches) must be >= 1, got m={m}")
    return (p - 1) / m


def zero_bytes_per_device(num_params: int, dp_degree: int, stage: int) -> float:
    P, N = num_params, dp_degree
    if stage == 0:
        return float(16 * P)
    if stage == 1:
        return 4 * P + 12 * P / N      # fp16 params + fp16 grads replicated; optimizer states sharded
    if stage == 2:
        return 2 * P + 14 * P / N      # gradients sharded as well
    if stage == 3:
        return 16 * P / N              # parameters sharded as well
    raise ValueError(f"stage must be 0, 1, 2 or 3, got stage={stage}")
