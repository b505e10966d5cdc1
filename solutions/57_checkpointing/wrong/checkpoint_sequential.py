"""Known-wrong: calls torch.utils.checkpoint.checkpoint_sequential, which never checkpoints the last chunk and cuts n // segments layers per chunk."""
# quizgen: question 57


from __future__ import annotations

import functools
import math

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint, checkpoint_sequential


def _run_chunk(chunk: list, h: Tensor) -> Tensor:
    for layer in chunk:
        h = layer(h)
    return h


def checkpointed_forward(x: Tensor, layers: list[torch.nn.Module], segments: int) -> Tensor:
    if segments < 1:
        raise ValueError(f"segments must be >= 1, got segments={segments}")
    layers = list(layers)
    if len(layers) < 1:
        raise ValueError("layers is empty: n_layers must be >= 1")
    return checkpoint_sequential(layers, segments, x, use_reentrant=False)


def optimal_num_segments(n_layers: int) -> int:
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got n_layers={n_layers}")
    return max(1, round(math.sqrt(n_layers)))


def stored_activations_model(n_layers: int, segments: int) -> int:
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got n_layers={n_layers}")
    if segments < 1:
        raise ValueError(f"segments must be >= 1, got segments={segments}")
    return segments + math.ceil(n_layers / segments)
