"""Rewrite of eval_mode.py: calls layer.train(False) on every layer before the chunks run."""
# quizgen: question 57

# quizgen: question 57

from __future__ import annotations

import math

import torch
from torch import Tensor


class _CheckpointChunk(torch.autograd.Function):
    @staticmethod
    def forward(ctx, run_function, dummy, *args):
        ctx.run_function = run_function
        ctx.cpu_rng_state = torch.get_rng_state()
        ctx.cuda_rng_state = torch.cuda.get_rng_state() if args[0].is_cuda else None
        ctx.save_for_backward(*args)
        with torch.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        inputs = ctx.saved_tensors
        cpu_state, cuda_state = torch.get_rng_state(), torch.cuda.get_rng_state() if ctx.cuda_rng_state is not None else None
        torch.set_rng_state(ctx.cpu_rng_state)
        if ctx.cuda_rng_state is not None:
            torch.cuda.set_rng_state(ctx.cuda_rng_state)
        detached = [t.detach().requires_grad_(t.requires_grad) for t in inputs]
        with torch.enable_grad():
            outputs = ctx.run_function(*detached)
        torch.set_rng_state(cpu_state)
        if cuda_state is not None:
            torch.cuda.set_rng_state(cuda_state)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        torch.autograd.backward(outputs, grad_outputs)
        grads = tuple(t.grad if t.requires_grad else None for t in detached)
        return (None, None) + grads


def checkpointed_forward(x: Tensor, layers: list[torch.nn.Module], segments: int) -> Tensor:
    if segments < 1:
        raise ValueError(f"segments must be a positive integer, got segments={segments}")
    layers = list(layers)
    n = len(layers)
    if n == 0:
        raise ValueError("checkpointed_forward needs at least one layer (layers is empty)")
    for layer in layers:
        layer.train(False)
    dummy = torch.empty(0, requires_grad=True)
    h = x
    for indices in torch.tensor_split(torch.arange(n), segments):
        if len(indices) == 0:
            continue
        chunk = [layers[i] for i in indices.tolist()]

        def run(t, chunk=chunk):  # the default argument binds this chunk
            for layer in chunk:
                t = layer(t)
            return t

        h = _CheckpointChunk.apply(run, dummy, h)
    return h


def optimal_num_segments(n_layers: int) -> int:
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got n_layers={n_layers}")
    k = math.isqrt(n_layers)
    # round(sqrt(n)): k + 1 when sqrt(n) > k + 0.5, i.e. n > k^2 + k + 0.25
    return max(1, k + 1 if n_layers > k * k + k else k)


def stored_activations_model(n_layers: int, segments: int) -> int:
    if n_layers < 1:
        raise ValueError(f"n_layers={n_layers}: need at least one layer")
    if segments < 1:
        raise ValueError(f"segments={segments}: need at least one segment")
    return segments + math.ceil(n_layers / segments)
