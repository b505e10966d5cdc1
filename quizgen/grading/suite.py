"""What hidden suites are written with: points, seeded generators, expected errors, trace rules.

A suite is a plain pytest module in ``solutions/NN_slug/`` that uses the fixtures ``submission``
(the proxy to the sandboxed worker), ``reference`` (the reference module, trusted side only),
``rng`` (a torch.Generator seeded per test from the run's seed) and ``device``. It runs in the
trusted process; nothing in it ever reaches the worker except the inputs of each call.
"""

from __future__ import annotations

import contextlib
import re

import pytest
import torch

from quizgen.grading.compare import assert_close, assert_equal, assert_number, tolerances  # noqa: F401 - re-exported
from quizgen.grading.proxy import SubmissionRaised

points = pytest.mark.points
"""``@points(10)``: the test is worth 10 points, split evenly over its parametrized cases."""

FLOAT_DTYPES = (torch.float32, torch.float64)
FUSED_ATTENTION_OPS = ("scaled_dot_product", "flash_attention", "efficient_attention", "_cudnn_attention",
                       "_fused_attention", "_native_multi_head_attention", "multi_head_attention")


@contextlib.contextmanager
def expect_value_error(*mentions: str):
    """The call inside must raise ValueError whose message names one of ``mentions`` (the argument)."""
    try:
        yield
    except SubmissionRaised as exc:
        if exc.type_name != "ValueError":
            raise AssertionError(f"expected ValueError, but {exc.function}() raised {exc.type_name}: {exc.message}") from None
        if mentions and not any(re.search(rf"\b{re.escape(m)}\b", exc.message) for m in mentions):
            raise AssertionError(f"{exc.function}() raised ValueError({exc.message!r}), but the message should name "
                                 f"{' or '.join(repr(m) for m in mentions)}") from None
        return
    raise AssertionError(f"expected ValueError naming {' or '.join(repr(m) for m in mentions)}, but the call returned normally")


@contextlib.contextmanager
def explained(why: str):
    """Append the case's explanation (what the right answer is and why) to any failure inside."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n  {why}") from None


def randn(rng: torch.Generator, *shape: int, dtype: torch.dtype = torch.float64, scale: float = 1.0,
          shift: float = 0.0) -> torch.Tensor:
    return torch.randn(*shape, generator=rng, dtype=dtype) * scale + shift


def assert_no_fused_attention(trace: dict, function: str) -> None:
    used = [op for op in trace.get("ops", {}) if any(f in op for f in FUSED_ATTENTION_OPS)]
    if used:
        raise AssertionError(f"{function}() called a fused attention op ({', '.join(used)}); "
                             "write the attention yourself")


def assert_no_square_intermediate(trace: dict, function: str, T: int, rows: int = 1) -> None:
    """No op output may hold T*T/2 or more elements (per batch-head ``rows``): that is a [T, T] score matrix."""
    limit = rows * T * T // 2
    largest = int(trace.get("largest_numel", 0))
    if largest >= limit:
        raise AssertionError(
            f"{function}() built a tensor of {largest:,} elements (shape {trace.get('largest_shape')}, from "
            f"aten.{trace.get('largest_op')}) at T={T}; a [T, T] matrix is {T * T:,} elements. Work in blocks so "
            f"that no intermediate reaches {limit:,} elements")


def clone_args(*values):
    """Copies of the inputs, to check after a call that the originals are untouched."""
    return tuple(v.clone() if isinstance(v, torch.Tensor) else v for v in values)
