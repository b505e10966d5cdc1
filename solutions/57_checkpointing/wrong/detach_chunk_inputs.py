"""Known-wrong: detaches each chunk's input before checkpointing it, so gradients stop at the chunk boundaries."""
# quizgen: question 57


from __future__ import annotations

import functools
import math

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint


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
    h = x
    for indices in torch.tensor_split(torch.arange(len(layers)), segments):
        if indices.numel() == 0:
            continue  # more segments than layers
        chunk = [layers[i] for i in indices.tolist()]
        # partial binds this chunk now: a closure over the loop variable would re-run the last chunk.
        h = checkpoint(functools.partial(_run_chunk, chunk), h.detach().requires_grad_(True), use_reentrant=False)
    return h


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
