"""Records what a submission's call dispatched: every op, the largest tensor any op produced, and
whether the call started threads.

The trace is produced inside the worker, so a submission can tamper with it: it teaches ("you
built a [2048, 2048] tensor at aten.bmm"), and the trusted side also fails calls whose trace shows
ops outside the aten/prims namespaces or new threads. The rules that matter hold without it: the
memory rule is an OS limit, and forbidden ops are replaced by raising kernels (``worker.py``).
"""

from __future__ import annotations

import threading

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


class CallTracer(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        """Never traced by dynamo: without this, torch wraps ``__torch_dispatch__`` to disable dynamo,
        and the first call imports torch._dynamo (about a second of every launcher's start)."""
        return False

    def __init__(self) -> None:
        super().__init__()
        self.ops: dict[str, int] = {}
        self.foreign: set[str] = set()
        self.largest_numel = 0
        self.largest_shape: list[int] = []
        self.largest_op = ""
        self._threads_before = 0
        self.threads_started = 0

    def __enter__(self):
        self._threads_before = threading.active_count()
        return super().__enter__()

    def __exit__(self, *exc):
        self.threads_started = max(0, threading.active_count() - self._threads_before)
        return super().__exit__(*exc)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        packet = getattr(func, "overloadpacket", None)
        name = str(packet.__name__) if packet is not None else str(func)
        namespace = getattr(func, "namespace", "aten")
        if namespace not in ("aten", "prims"):
            self.foreign.add(f"{namespace}::{name}")
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
        return {"ops": self.ops, "foreign_ops": sorted(self.foreign), "largest_numel": self.largest_numel,
                "largest_shape": self.largest_shape, "largest_op": self.largest_op,
                "threads_started": self.threads_started}


class NoTracer:
    """For the calls nobody reads a trace of (most tasks have no rule about ops or memory): a Python
    dispatch mode costs tens of microseconds on every op."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def summary(self) -> dict:
        return {}
