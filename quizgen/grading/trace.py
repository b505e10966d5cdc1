"""Records what a submission's call dispatched: every aten op, and the largest tensor any op produced.

Runs inside the worker. Hidden suites read the trace to enforce memory rules ("never build a [T, T]
tensor") and forbidden ops ("no fused attention"), whichever Python alias the submission used:
``torch.ops.aten...`` and ``F.scaled_dot_product_attention`` reach the same dispatcher.
"""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


class CallTracer(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: dict[str, int] = {}
        self.largest_numel = 0
        self.largest_shape: list[int] = []
        self.largest_op = ""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = str(func.overloadpacket.__name__) if hasattr(func, "overloadpacket") else str(func)
        self.ops[name] = self.ops.get(name, 0) + 1
        for leaf in tree_leaves(out):
            if isinstance(leaf, torch.Tensor):
                try:
                    numel = leaf.untyped_storage().nbytes() // max(leaf.element_size(), 1)
                except (RuntimeError, NotImplementedError):
                    numel = leaf.numel()
                if numel > self.largest_numel:
                    self.largest_numel, self.largest_shape, self.largest_op = numel, list(leaf.shape), name
        return out

    def summary(self) -> dict:
        return {"ops": self.ops, "largest_numel": self.largest_numel,
                "largest_shape": self.largest_shape, "largest_op": self.largest_op}
