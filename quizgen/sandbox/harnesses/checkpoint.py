"""A model built from data, run through a submission's ``fn(x, layers, segments)``, then backward.

Modules cannot cross the process boundary, so the trusted side describes the layers as data and this
harness builds them here, from quizgen's own classes (never from the submission). The call is
``submission.harness("checkpoint", "checkpointed_forward", x, description, segments, params=...)``;
the description (argument 2) is replaced by the built ``torch.nn.Module`` list before ``fn`` runs.

A description is a list of layers, each a dict:
- ``{"kind": "linear", "weight": W [out, in], "bias": b [out] or None}`` (saves its input)
- ``{"kind": "tanh"}`` (saves its output), ``{"kind": "gelu"}`` (saves its input)
- ``{"kind": "dropout", "p": p}``: an inverted-dropout mask drawn with ``torch.rand`` (so it follows
  the global RNG that checkpointing preserves); every mask drawn is recorded
- ``{"kind": "sequential", "layers": [...]}``: children run in order (only top-level layers are logged)

params: ``grad_output`` (a tensor like the output; the backward pass computes sum(output * grad_output)),
``x_requires_grad`` (bool, default True), ``seed`` (int: ``torch.manual_seed(seed)`` just before the
forward; None leaves the RNG alone).

Returns a dict:
- ``output``: what fn returned
- ``x_grad``: x's gradient, or None
- ``param_grads``: the gradient of every parameter (None where none arrived), in description order,
  depth first, weight before bias
- ``runs``: ``[layer index, phase]`` for each time a top-level layer's forward started, in time order;
  phase 0 = during the call of fn, 1 = during the backward pass
- ``masks``: ``[layer index, phase, mask]`` for each dropout mask drawn (mask: bool, True = kept)
- ``backward_ran``: whether the output required grad, so that a backward pass could run
- ``modified_layers``: indices of layers whose parameters differ from the description after the run
- ``x_modified``: whether fn changed x in place (it receives a private copy of x)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

FORWARD, BACKWARD = 0, 1
KINDS = ("linear", "tanh", "gelu", "dropout", "sequential")


class _Recorder:
    """Where layers log; a class attribute, so copies of the modules (deepcopy) still log here."""

    phase = FORWARD
    runs: list = []
    masks: list = []

    @classmethod
    def reset(cls) -> None:
        cls.phase, cls.runs, cls.masks = FORWARD, [], []


class HarnessLayer(torch.nn.Module):
    """One layer of the described model. The log entry is written by ``forward`` itself, so it is
    recorded however the submission calls the module (``layer(h)``, ``layer.forward(h)``, copies)."""

    def __init__(self, spec: dict, index: int | None, device, top: int):
        super().__init__()
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError(f"checkpoint harness: unknown layer kind {kind!r}")
        self.kind, self.index, self.top = kind, index, top
        self.p = float(spec.get("p", 0.0))
        if kind == "linear":
            self.weight = torch.nn.Parameter(spec["weight"].detach().clone().to(device))
            bias = spec.get("bias")
            self.bias = None if bias is None else torch.nn.Parameter(bias.detach().clone().to(device))
        self.children_ = torch.nn.ModuleList(
            HarnessLayer(child, None, device, top) for child in spec.get("layers", []) if kind == "sequential")

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.index is not None:
            _Recorder.runs.append([self.index, _Recorder.phase])
        if self.kind == "linear":
            return F.linear(h, self.weight, self.bias)
        if self.kind == "tanh":
            return torch.tanh(h)
        if self.kind == "gelu":
            return F.gelu(h)
        if self.kind == "dropout":
            if not self.training or self.p == 0.0:
                return h
            keep = torch.rand(h.shape, device=h.device, dtype=h.dtype) >= self.p
            _Recorder.masks.append([self.top, _Recorder.phase, keep.detach().clone()])
            return h * (keep.to(h.dtype) / (1.0 - self.p))
        for child in self.children_:
            h = child(h)
        return h


def build(description: list, device) -> torch.nn.ModuleList:
    return torch.nn.ModuleList(HarnessLayer(spec, i, device, i) for i, spec in enumerate(description))


def _flat_parameters(layer: HarnessLayer) -> list:
    out = []
    if layer.kind == "linear":
        out.append(layer.weight)
        if layer.bias is not None:
            out.append(layer.bias)
    for child in layer.children_:
        out.extend(_flat_parameters(child))
    return out


def _flat_originals(spec: dict) -> list:
    out = []
    if spec.get("kind") == "linear":
        out.append(spec["weight"])
        if spec.get("bias") is not None:
            out.append(spec["bias"])
    for child in spec.get("layers", []) if spec.get("kind") == "sequential" else []:
        out.extend(_flat_originals(child))
    return out


def run(fn, args, kwargs, params: dict, tracer):
    args = list(args)
    x, description = args[0], args[1]
    device = x.device
    layers = build(description, device)
    model_params = [_flat_parameters(layer) for layer in layers]
    x_leaf = x.detach().clone().requires_grad_(bool(params.get("x_requires_grad", True)))
    args[0], args[1] = x_leaf, list(layers)
    _Recorder.reset()
    seed = params.get("seed")
    if seed is not None:
        torch.manual_seed(int(seed))
    try:
        with tracer:
            output = fn(*args, **kwargs)
        backward_ran = isinstance(output, torch.Tensor) and output.requires_grad
        if backward_ran:
            _Recorder.phase = BACKWARD
            g = params["grad_output"]
            (output * g.to(output.device, output.dtype)).sum().backward()
        runs, masks = list(_Recorder.runs), list(_Recorder.masks)
    finally:
        _Recorder.reset()
    modified = [i for i, (spec, ps) in enumerate(zip(description, model_params))
                if any(p.shape != o.shape or not torch.equal(p.detach(), o.to(p.device))
                       for p, o in zip(ps, _flat_originals(spec)))]
    return {
        "output": output,
        "x_grad": None if x_leaf.grad is None else x_leaf.grad.detach(),
        "param_grads": [None if p.grad is None else p.grad.detach() for ps in model_params for p in ps],
        "runs": runs,
        "masks": masks,
        "backward_ran": backward_ran,
        "modified_layers": modified,
        "x_modified": not torch.equal(x_leaf.detach(), x),
    }
