"""Name the mistake: when a failing test's calls behave exactly like one of the task's known-wrong
implementations, the report quotes that file's description ("looks like: top-k weights not renormalised").

Runs on the trusted side after a test fails. The calls the submission answered during the test are
replayed on the reference and on every known-wrong module (our own trusted code, imported here);
a known mistake is named when it reproduces every answer of the submission and the reference does
not. A correct implementation fails no test, so it is never diagnosed; a failure that is not about
values (a rule, a mutated input) matches the reference and is not diagnosed either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch
from torch.utils._pytree import tree_flatten, tree_map

from quizgen.grading.task import Task, load_module

MAX_REPLAY_ELEMENTS = 1 << 20  # calls with larger inputs (the memory-rule cases) are not replayed
MAX_NAMED = 2


@dataclass(frozen=True)
class Outcome:
    """What a call gave: a value, or the name of the exception it raised."""

    value: object = None
    raised: str = ""


@dataclass
class RecordedCall:
    function: str
    args: tuple
    kwargs: dict
    outcome: Outcome


def replayable(args: tuple, kwargs: dict) -> bool:
    leaves, _ = tree_flatten((args, kwargs))
    return sum(t.numel() for t in leaves if isinstance(t, torch.Tensor)) <= MAX_REPLAY_ELEMENTS


def _run(module, call: RecordedCall) -> Outcome:
    fn = getattr(module, call.function, None)
    if not callable(fn):
        return Outcome(raised="AttributeError")
    copy = lambda v: v.clone() if isinstance(v, torch.Tensor) else v  # noqa: E731 - a file may write its inputs
    try:
        value = fn(*tree_map(copy, call.args), **tree_map(copy, call.kwargs))
    except Exception as exc:  # noqa: BLE001 - what it raised is the outcome
        return Outcome(raised=type(exc).__name__)
    return Outcome(value=value)


def _same_value(a, b) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.shape != b.shape:
            return False
        if a.dtype != b.dtype:
            return False
        if not a.is_floating_point() and not a.is_complex():
            return torch.equal(a.cpu(), b.cpu())
        x, y = a.detach().cpu().double(), b.detach().cpu().double()
        scale = max(1.0, float(y.abs().nan_to_num(posinf=0, neginf=0).max())) if y.numel() else 1.0
        return bool(torch.allclose(x, y, rtol=1e-5, atol=1e-6 * scale, equal_nan=True))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return a == b


def same(a: Outcome, b: Outcome) -> bool:
    if a.raised or b.raised:
        return a.raised == b.raised
    return _same_value(a.value, b.value)


@dataclass
class Diagnoser:
    """The task's known mistakes, loaded on first use (most submissions never fail a test)."""

    task: Task
    reference: object

    @cached_property
    def mistakes(self) -> list[tuple[str, object]]:
        loaded = []
        for i, wrong in enumerate(self.task.known_wrong):
            try:
                loaded.append((wrong.mistake, load_module(wrong.path, f"quizgen_known_wrong_{self.task.question.id}_{i}")))
            except Exception:  # noqa: BLE001 - a broken known-wrong file only loses its diagnosis
                continue
        return loaded

    def diagnose(self, calls: list[RecordedCall]) -> str:
        """The known mistake(s) that reproduce every recorded answer, or "" when none does."""
        calls = [c for c in calls if c.outcome.raised != "NotImplementedError"]
        if not calls or all(same(_run(self.reference, c), c.outcome) for c in calls):
            return ""
        named = [mistake for mistake, module in self.mistakes if all(same(_run(module, c), c.outcome) for c in calls)]
        return "; or ".join(named[:MAX_NAMED])
