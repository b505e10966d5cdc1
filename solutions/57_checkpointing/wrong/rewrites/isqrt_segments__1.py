"""Rewrite of isqrt_segments.py: truncates the float square root with int()."""
# quizgen: question 57

# quizgen: question 57

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint


def _bounds(n: int, segments: int) -> list[tuple[int, int]]:
    size, extra = divmod(n, segments)
    out, start = [], 0
    for i in range(segments):
        end = start + size + (1 if i < extra else 0)
        if end > start:
            out.append((start, end - 1))
        start = end
    return out


def checkpointed_forward(x: Tensor, layers: list[torch.nn.Module], segments: int) -> Tensor:
    functions = list(layers)
    if segments < 1:
        raise ValueError(f"Expected segments to be at least 1, got segments={segments}")
    if not functions:
        raise ValueError("n_layers must be at least 1 (layers is empty)")

    def run_function(start: int, end: int, functions):
        def forward(h):
            for j in range(start, end + 1):
                h = functions[j](h)
            return h
        return forward

    h = x
    for start, end in _bounds(len(functions), segments):
        h = checkpoint(run_function(start, end, functions), h, use_reentrant=False,
                       preserve_rng_state=True)
    return h


def optimal_num_segments(n_layers: int) -> int:
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got n_layers={n_layers}")
    return max(1, int(math.sqrt(n_layers)))


def stored_activations_model(n_layers: int, segments: int) -> int:
    if n_layers < 1 or segments < 1:
        raise ValueError(f"n_layers and segments must be >= 1, got n_layers={n_layers}, segments={segments}")
    return segments + -(-n_layers // segments)
