"""Rewrite of one_segment.py: wraps every layer in a single nn.Sequential and checkpoints it once."""
# quizgen: question 57

# quizgen: question 57

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint


def checkpointed_forward(x: Tensor, layers: list[torch.nn.Module], segments: int) -> Tensor:
    if segments < 1:
        raise ValueError(f"segments must be >= 1 (got segments={segments})")
    layers = list(layers)
    if len(layers) < 1:
        raise ValueError("layers must hold at least one module (n_layers >= 1)")
    return checkpoint(torch.nn.Sequential(*layers), x, use_reentrant=False)


def optimal_num_segments(n_layers: int) -> int:
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1 (got n_layers={n_layers})")
    return max(1, round(n_layers ** 0.5))


def stored_activations_model(n_layers: int, segments: int) -> int:
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1 (got n_layers={n_layers})")
    if segments < 1:
        raise ValueError(f"segments must be >= 1 (got segments={segments})")
    return int(segments + math.ceil(n_layers / segments))
