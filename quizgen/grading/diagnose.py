"""Name the mistake: when a failing test's calls behave exactly like one of the task's known-wrong
implementations, the report quotes that file's description ("looks like: top-k weights not renormalised").

Runs on the trusted side after a test fails. The calls the submission answered during the test are
replayed on the reference and on every known-wrong module (our own trusted code, imported here);
a known mistake is named when it reproduces every answer of the submission far more closely than
the reference does (so float32 arithmetic on float64 inputs is told apart from a correct kernel).
A correct implementation fails no test, so it is never diagnosed; a failure that is not about
values (a rule, a mutated input) matches the reference and is not diagnosed either. Calls made
through a worker-side harness (gradients) are not replayed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

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
    import torch
    from torch.utils._pytree import tree_flatten

    leaves, _ = tree_flatten((args, kwargs))
    return sum(t.numel() for t in leaves if isinstance(t, torch.Tensor)) <= MAX_REPLAY_ELEMENTS


def _run(module, call: RecordedCall) -> Outcome:
    import torch
    from torch.utils._pytree import tree_map

    fn = getattr(module, call.function, None)
    if not callable(fn):
        return Outcome(raised="AttributeError")
    copy = lambda v: v.clone() if isinstance(v, torch.Tensor) else v
    try:
        value = fn(*tree_map(copy, call.args), **tree_map(copy, call.kwargs))
    except Exception as exc:  # noqa: BLE001 - what it raised is the outcome
        return Outcome(raised=type(exc).__name__)
    return Outcome(value=value)


def distance(a, b) -> float:
    """How far apart two values are: 0 when equal, the largest error relative to their scale for
    floating-point tensors and numbers, infinity when they cannot be compared (shapes, types)."""
    import torch

    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.shape != b.shape or a.dtype != b.dtype:
            return math.inf
        if not a.is_floating_point() and not a.is_complex():
            return 0.0 if torch.equal(a.cpu(), b.cpu()) else math.inf
        if a.numel() == 0:
            return 0.0
        x, y = a.detach().cpu().double(), b.detach().cpu().double()
        both = torch.isnan(x) & torch.isnan(y)
        if (torch.isnan(x) ^ torch.isnan(y)).any():
            return math.inf
        scale = max(1.0, float(y[~both].abs().nan_to_num(posinf=0, neginf=0).max()) if (~both).any() else 1.0)
        diff = (x - y).abs().masked_fill(both | (x == y), 0.0).nan_to_num(nan=math.inf)
        return float(diff.max()) / scale
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return math.inf
        return max((distance(x, y) for x, y in zip(a, b)), default=0.0)
    if isinstance(a, dict) and isinstance(b, dict):
        return max((distance(a[k], b[k]) for k in a), default=0.0) if a.keys() == b.keys() else math.inf
    if isinstance(a, bool) or isinstance(b, bool) or not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return 0.0 if a == b and type(a) is type(b) else math.inf
    if isinstance(a, int) and isinstance(b, int):
        return 0.0 if a == b else math.inf  # a count or a zero point is right or wrong
    if math.isnan(a) and math.isnan(b):
        return 0.0
    return abs(a - b) / max(1.0, abs(b))


def outcome_distance(a: Outcome, b: Outcome) -> float:
    if a.raised or b.raised:
        return 0.0 if a.raised == b.raised else math.inf
    return distance(a.value, b.value)


NOISE = 1e-12  # what two implementations of the same arithmetic may differ by, beyond float64 rounding
CLOSER = 0.05  # a known mistake must reproduce the submission 20 times closer than the reference does


def explains(mistake: list[float], reference: list[float]) -> bool:
    """Whether a known mistake explains a failing test, from each call's distance to the submission's
    answer: every answer reproduced (within noise, or far closer than the reference comes), and the
    reference differs from at least one."""
    if not any(r > NOISE for r in reference):
        return False
    return all(m <= NOISE or (r > NOISE and m <= CLOSER * r) for m, r in zip(mistake, reference))


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
        if not calls:
            return ""
        reference = [outcome_distance(_run(self.reference, c), c.outcome) for c in calls]
        if not any(r > NOISE for r in reference):
            return ""  # the answers are the reference's: the failure is not about values
        scored = []
        for mistake, module in self.mistakes:
            distances = [outcome_distance(_run(module, c), c.outcome) for c in calls]
            if explains(distances, reference):
                scored.append((max(distances), mistake))
        return "; or ".join(mistake for _, mistake in sorted(scored)[:MAX_NAMED])
