"""What hidden suites are written with, so that each suite reads as its task's specification.

A suite is a plain pytest module in ``solutions/NN_slug/`` that uses the fixtures ``submission``
(the proxy to the sandboxed worker), ``reference`` (the reference module, trusted side only),
``rng`` (a torch.Generator seeded per test from the run's seed) and ``device``. It runs in the
trusted process; nothing in it ever reaches the worker except the inputs of each call.

Markers: ``@points(n)`` (the test's weight, split over its cases) and ``@rule("...")`` (the test
enforces the rule the task exists for: failing it caps the score at 50 and leads the report).
"""

from __future__ import annotations

import contextlib
import math
import re

import pytest
import torch

from quizgen.grading.client import (
    SubmissionCrashed,
    SubmissionOutOfMemory,
    SubmissionRaised,
    Trace,
)
from quizgen.grading.compare import (  # noqa: F401 - re-exported
    assert_close,
    assert_equal,
    assert_number,
    tolerances,
)

points = pytest.mark.points
"""``@points(10)``: the test is worth 10 points, split evenly over its parametrized cases."""

rule = pytest.mark.rule
"""``@rule("no [T, T] score matrix")``: the test enforces the task's rule; failing it caps the score."""

FLOAT_DTYPES = (torch.float32, torch.float64)
FUSED_ATTENTION_OPS = ("scaled_dot_product", "flash_attention", "efficient_attention", "cudnn_attention",
                       "fused_attention", "multi_head_attention", "transformer_encoder", "_triton_", "fused_sdp")


class GraderError(Exception):
    """The suite could not build a valid case (our problem, never the submission's)."""


@contextlib.contextmanager
def expect_value_error(*mentions: str):
    """The call inside must raise ValueError whose message names one of ``mentions``: every argument
    the failed condition involves (``r != A.shape[0]`` names both ``r`` and ``A``)."""
    try:
        yield
    except SubmissionRaised as exc:
        if exc.type_name == "NotImplementedError":
            raise  # not written yet: reported as such, not as a wrong error
        if exc.type_name != "ValueError":
            raise AssertionError(f"expected ValueError, but {exc.function}() raised {exc.type_name}: {exc.message}") from None
        if mentions and not any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(m)}(?![A-Za-z0-9_])", exc.message)
                                for m in mentions):
            raise AssertionError(f"{exc.function}() raised ValueError({exc.message!r}), but the message should name "
                                 f"{' or '.join(repr(m) for m in mentions)}") from None
        return
    raise AssertionError(f"expected ValueError naming {' or '.join(repr(m) for m in mentions)}, "
                         "but the call returned normally")


@contextlib.contextmanager
def explained(why: str):
    """Append the case's explanation (what the right answer is and why) to any failure inside."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n  {why}") from None


def expect_tuple(value, length: int, function: str, what: str = "") -> tuple:
    """``value`` as a tuple of ``length`` items, or a failure that says what came back instead."""
    if not isinstance(value, (tuple, list)) or len(value) != length:
        got = type(value).__name__ + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        raise AssertionError(f"{function}() must return a tuple of {length}{' ' + what if what else ''}, got {got}")
    return tuple(value)


def describe(**inputs) -> str:
    """The inputs of a case, for a failure message: shapes and dtypes of tensors (small ones in full)."""
    parts = []
    for name, value in inputs.items():
        if isinstance(value, torch.Tensor):
            text = f"{name} {list(value.shape)} {str(value.dtype).removeprefix('torch.')}"
            if not value.is_contiguous():
                text += " (non-contiguous)"
            if value.numel() <= 8:
                text += f" = {value.tolist()}"
            parts.append(text)
        else:
            parts.append(f"{name}={value!r}")
    return "inputs: " + ", ".join(parts)


def randn(rng: torch.Generator, *shape: int, dtype: torch.dtype = torch.float64, scale: float = 1.0,
          shift: float = 0.0) -> torch.Tensor:
    return torch.randn(*shape, generator=rng, dtype=dtype) * scale + shift


def non_contiguous(t: torch.Tensor) -> torch.Tensor:
    """The same values in a non-contiguous layout (a transposed copy, transposed back), so that an
    implementation that calls ``.view`` where it needs ``.reshape`` fails."""
    if t.dim() < 2:
        wide = torch.stack([t, torch.zeros_like(t)], dim=-1)
        return wide[..., 0]
    return t.transpose(-1, -2).contiguous().transpose(-1, -2)


def check_trace(trace: Trace, function: str) -> None:
    """Ops outside the aten/prims namespaces (a custom op hides what runs inside it) and new threads
    (dispatch modes are per thread) are refused in every call whose trace a suite checks."""
    if trace.foreign_ops:
        raise AssertionError(f"{function}() called ops outside aten ({', '.join(trace.foreign_ops)}); "
                             "write the computation with plain torch operations")
    if trace.threads_started:
        raise AssertionError(f"{function}() started {trace.threads_started} thread(s); compute in the calling thread")


def assert_no_fused_attention(trace: Trace, function: str) -> None:
    check_trace(trace, function)
    used = [op for op in trace.ops if any(f in op for f in FUSED_ATTENTION_OPS)]
    if used:
        raise AssertionError(f"{function}() called a fused attention op ({', '.join(used)}); "
                             "write the attention yourself")


def assert_no_square_intermediate(trace: Trace, function: str, T: int, rows: int = 1) -> None:
    """No op output may hold T*T/2 or more elements (per batch-head ``rows``): that is a [T, T] score matrix."""
    check_trace(trace, function)
    limit = rows * T * T // 2
    if trace.largest_numel >= limit:
        raise AssertionError(
            f"{function}() built a tensor of {trace.largest_numel:,} elements (shape {list(trace.largest_shape)}, "
            f"from aten.{trace.largest_op}) at T={T}; a [T, T] matrix is {T * T:,} elements. Work in blocks so "
            f"that no intermediate reaches {limit:,} elements")


def _tensor_bytes(*values) -> int:
    from torch.utils._pytree import tree_leaves

    return sum(v.untyped_storage().nbytes() for v in tree_leaves(values) if isinstance(v, torch.Tensor))


def call_within_memory(submission, function: str, *args, square_bytes: int, what: str, **kwargs):
    """Call ``function`` in a fresh worker whose address space may grow by far less than
    ``square_bytes`` (the size of the forbidden [T, T] tensor): an OS limit, enforced whatever the
    trace says. Inputs and a few copies of them, and of the output, still fit: blocked kernels
    adapted from public code need 0-3 MiB at T = 2048-4096 (measured), and get 8 MiB more."""
    inputs = _tensor_bytes(args, kwargs)
    budget = square_bytes // 8 + 4 * inputs + (8 << 20)
    budget_mb = math.ceil(budget / 2**20)
    with submission.memory_limit(budget_mb) as capped:
        try:
            return capped.call(function, *args, **kwargs)
        except (SubmissionOutOfMemory, SubmissionCrashed) as exc:
            raise AssertionError(
                f"{function}() ran out of memory with {budget_mb} MiB to spare ({what}; a [T, T] tensor alone needs "
                f"{square_bytes / 2**20:,.0f} MiB): work in blocks so that memory grows with T, not T^2 "
                f"({type(exc).__name__})") from None
