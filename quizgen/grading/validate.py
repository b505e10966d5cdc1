"""`quiz validate`: prove each task's grading trustworthy, on as many fresh seeds as asked.

On every seed the reference scores 100, the stub 0, and every known-wrong implementation fails at
least one test; a verdict that flips between seeds is a problem. Rewrites of known-wrong files
(``wrong/rewrites/``) must fail too, and the report should name their mistake: how often it does
is counted, per task.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from quizgen.bank.models import Bank, Question
from quizgen.errors import UnusableSubmission
from quizgen.grading.report import Report, Status
from quizgen.grading.runner import Options, grade_many
from quizgen.grading.static import CheckedSource, check_source
from quizgen.grading.task import Task
from quizgen.paths import solutions_dir, user_home

MIN_KNOWN_WRONG = 5
BATCH = 32  # files of one task graded by one pytest session in turn
BUNDLED_HINTS = "validate-first-failures.json"  # under solutions/: a copy of the cache below


@dataclass
class WrongOutcome:
    """One known-wrong file (or a rewrite of one) over all seeds."""

    file: str
    mistake: str
    rewrite_of: str = ""
    rejected: int = 0  # on how many seeds
    seeds: int = 0
    diagnosed: int = 0  # seeds on which the report named the expected mistake
    best_score: float = 0.0
    detail: str = ""

    @property
    def always_rejected(self) -> bool:
        return self.rejected == self.seeds


@dataclass
class TaskValidation:
    question: Question
    seeds: list[int] = field(default_factory=list)
    reference_scores: list[float] = field(default_factory=list)
    stub_scores: list[float] = field(default_factory=list)
    wrong: list[WrongOutcome] = field(default_factory=list)
    rewrites: list[WrongOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0  # its files' grading times, summed (gradings overlap, so not a wall-clock share)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rejected(self) -> str:
        return f"{sum(w.always_rejected for w in self.wrong)}/{len(self.wrong)}"

    @property
    def rewrites_diagnosed(self) -> str:
        seeds = max(len(self.seeds), 1)
        return f"{sum(r.diagnosed for r in self.rewrites)}/{len(self.rewrites) * seeds}" if self.rewrites else "-"


def _sources(task: Task, result: TaskValidation) -> list[tuple[str, object, CheckedSource]]:
    """(role, outcome to update or None, checked source) for every file of the task."""
    bank = Bank(questions=[task.question])
    files = [("reference", None, task.reference_path.name, task.reference_path.read_text(encoding="utf-8")),
             ("stub", None, task.stub_file, task.stub)]
    for wrong in task.known_wrong:
        outcome = WrongOutcome(wrong.name, wrong.mistake)
        result.wrong.append(outcome)
        files.append(("wrong", outcome, wrong.name, wrong.source()))
    for original, path in task.rewrites:
        outcome = WrongOutcome(path.name, original.mistake, rewrite_of=original.name)
        result.rewrites.append(outcome)
        files.append(("rewrite", outcome, path.name, path.read_text(encoding="utf-8")))
    jobs = []
    for role, outcome, name, source in files:
        try:
            jobs.append((role, outcome, check_source(source, name, bank, task.question.id)))
        except UnusableSubmission as exc:
            result.problems.append(f"{role} {name} is not gradable: {exc}")
    return jobs


def _first_failure(report: Report):
    """The test that caught a file graded until its first failure (the rest are "not-run")."""
    return next((t for t in report.failing if t.status != Status.NOT_RUN), None)


def _judge(result: TaskValidation, role: str, outcome: WrongOutcome | None, report: Report, seed: int) -> None:
    if role == "reference":
        result.reference_scores.append(report.score)
        if not report.all_passed:
            failing = ", ".join(t.title for t in report.failing[:3]) or report.message
            result.problems.append(f"reference scores {report.score:g}/{report.max_score:g} on seed {seed} ({failing})")
        if abs(report.max_score - 100) > 1e-6:
            result.problems.append(f"the suite's points add up to {report.max_score:g}, not 100")
        if any(t.diagnosis for t in report.tests):
            result.problems.append(f"the reference was diagnosed with a mistake on seed {seed}")
    elif role == "stub":
        result.stub_scores.append(report.score)
        if not report.gradable or report.score != 0:
            result.problems.append(f"the stub scores {report.score:g} on seed {seed} (must be 0)"
                                   + (f": {report.message}" if report.message else ""))
    else:
        outcome.seeds += 1
        rejected = report.gradable and not report.all_passed
        outcome.rejected += rejected
        outcome.best_score = max(outcome.best_score, report.score)
        caught = _first_failure(report)
        outcome.detail = caught.title if caught else report.message
        if role == "rewrite" and any(outcome.mistake in t.diagnosis for t in report.failing):
            outcome.diagnosed += 1
        if not rejected:
            result.problems.append(f"{'rewrite' if role == 'rewrite' else 'known-wrong'} {outcome.file} passes every "
                                   f"test on seed {seed}")


def validate_tasks(questions: list[Question], launcher, *, device: str = "cpu", seeds: list[int] | None = None,
                   parallel: int = 2) -> Iterator[TaskValidation]:
    """Validate each task on every seed (fresh ones by default), grading up to ``parallel`` files at
    once; yields each task when all its gradings are done."""
    seeds = seeds or [secrets.randbits(31)]
    results = [TaskValidation(q, seeds=list(seeds)) for q in questions]
    plan = []
    for result in results:
        try:
            task = Task.of(result.question)
            task.suite_path  # noqa: B018 - raises when the suite is missing
        except UnusableSubmission as exc:
            result.problems.append(str(exc))
            continue
        jobs = _sources(task, result)
        plan += [(result, role, outcome, checked, seed) for seed in seeds for role, outcome, checked in jobs]
    remaining = {id(r): sum(1 for p in plan if p[0] is r) for r in results}
    launcher.isolation  # noqa: B018 - wait for the launcher, so its start is not charged to the first task
    # A known-wrong file only has to fail once: its suite stops at the first failure.
    hints = _load_hints()
    options = [Options(device=device, seed=seed, stop_at_first_failure=role in ("wrong", "rewrite"),
                       diagnose=role in ("reference", "rewrite"),
                       try_first=tuple(hints.get(f"{result.question.id}/{checked.display_name}", ())))
               for result, role, _, checked, seed in plan]
    reports = grade_many([p[3] for p in plan], launcher, parallel=parallel, batch=BATCH, options=options)
    done = 0
    for (result, role, outcome, _, seed), report in zip(plan, reports):
        _judge(result, role, outcome, report, seed)
        result.seconds += report.seconds
        caught = _first_failure(report)
        if role in ("wrong", "rewrite") and caught is not None:
            hints[f"{result.question.id}/{report.file}"] = [caught.id]
        remaining[id(result)] -= 1
        while done < len(results) and remaining[id(results[done])] == 0:
            finished = results[done]
            if len(finished.wrong) < MIN_KNOWN_WRONG:
                finished.problems.append(f"only {len(finished.wrong)} known-wrong implementations "
                                         f"(at least {MIN_KNOWN_WRONG} wanted)")
            done += 1
            yield finished
    _save_hints(hints)
    for finished in results[done:]:  # tasks with nothing gradable
        yield finished


def _hints_path() -> Path:
    return user_home() / "cache" / "validate-first-failures.json"


def _load_hints() -> dict:
    """Which test caught each known-wrong file last time (as pytest's --failed-first): run first, it
    fails the file at once. Only the order depends on it; a missing or stale hint only costs time.
    The bank ships the hints of its last validation (a fresh machine's first run is as fast as the
    second); this machine's own runs override them."""
    hints = {}
    for path in (solutions_dir() / BUNDLED_HINTS, _hints_path()):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            hints |= {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, list)}
    return hints


def _save_hints(hints: dict) -> None:
    with contextlib.suppress(OSError):
        path = _hints_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(hints), encoding="utf-8")
        os.replace(partial, path)
