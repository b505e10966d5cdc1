"""`quiz validate`: prove each task's grading trustworthy. The reference scores 100, the stub 0, and
every known-wrong implementation under tests/mutants/ fails at least one test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from quizgen.bank.models import Question
from quizgen.errors import UnusableSubmission
from quizgen.grading.report import Report
from quizgen.grading.runner import grade_many
from quizgen.grading.task import Task
from quizgen.grading.static import CheckedSource, check_source



@dataclass
class MutantOutcome:
    file: str
    rejected: bool
    score: float
    detail: str


@dataclass
class TaskValidation:
    question: Question
    reference: Report | None = None
    stub: Report | None = None
    mutants: list[MutantOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def mutant_files(question: Question) -> list[Path]:
    return [w.path for w in Task.of(question).known_wrong]


class _OneQuestion:
    """A bank of one question, for the static check of sources that do not carry a header."""

    def __init__(self, question: Question):
        self.questions = [question]

    def get(self, _question_id: int) -> Question:
        return self.questions[0]


def _jobs(question: Question, result: TaskValidation) -> list[tuple[str, CheckedSource]]:
    """(role, checked source) for the reference, the stub and every known-wrong file."""
    bank = _OneQuestion(question)
    try:
        task = Task.of(question)
        task.suite_path  # noqa: B018 - raises when the suite is missing
    except UnusableSubmission as exc:
        result.problems.append(str(exc))
        return []
    sources = [("reference", task.reference_path.name, task.reference_path.read_text(encoding="utf-8")),
               ("stub", question.coding.stub_file, question.coding.stub)]
    sources += [("mutant", p.name, p.read_text(encoding="utf-8")) for p in mutant_files(question)]
    jobs = []
    for role, name, source in sources:
        try:
            jobs.append((role, check_source(source, name, bank, question.id)))
        except UnusableSubmission as exc:
            result.problems.append(f"{role} {name} is not gradable: {exc}")
    return jobs


def _judge(result: TaskValidation, role: str, report: Report) -> None:
    if role == "reference":
        result.reference = report
        if not report.all_passed:
            failing = ", ".join(t.name for t in report.failing[:3]) or report.message
            result.problems.append(f"reference scores {report.score:g}/{report.max_score:g} ({failing})")
        if abs(report.max_score - 100) > 1e-6:
            result.problems.append(f"the suite's points add up to {report.max_score:g}, not 100")
    elif role == "stub":
        result.stub = report
        if not report.gradable or report.score != 0:
            result.problems.append(f"the stub scores {report.score:g} (must be 0)"
                                   + (f": {report.message}" if report.message else ""))
    else:
        rejected = report.gradable and not report.all_passed
        detail = report.failing[0].name if report.failing else report.message
        result.mutants.append(MutantOutcome(report.file, rejected, report.score, detail))
        if not rejected:
            result.problems.append(f"mutant {report.file} passes every test")


def validate_tasks(questions: list[Question], launcher, *, device: str = "cpu", seed: int | None = None,
                   parallel: int = 2) -> Iterator[TaskValidation]:
    """Validate each task, grading up to ``parallel`` files at once; yields each task when it is done."""
    results = [TaskValidation(q) for q in questions]
    plan = [(result, role, checked) for result in results for role, checked in _jobs(result.question, result)]
    remaining = {id(r): sum(1 for p in plan if p[0] is r) for r in results}
    launcher.isolation  # noqa: B018 - wait for the launcher, so its start is not charged to the first task
    # A known-wrong file only has to fail once: its suite stops at the first failure.
    reports = grade_many([checked for _, _, checked in plan], launcher, parallel=parallel, device=device, seed=seed,
                         stop_at_first_failure=[role == "mutant" for _, role, _ in plan])
    last = time.monotonic()
    done = 0
    for (result, role, _), report in zip(plan, reports):
        _judge(result, role, report)
        remaining[id(result)] -= 1
        while done < len(results) and remaining[id(results[done])] == 0:
            finished = results[done]
            if len(finished.mutants) < 5:
                finished.problems.append(f"only {len(finished.mutants)} known-wrong implementations (at least 5 wanted)")
            now = time.monotonic()
            finished.seconds, last = now - last, now
            done += 1
            yield finished
    for finished in results[done:]:  # tasks with nothing gradable
        yield finished


def validate_task(question: Question, launcher, *, device: str = "cpu", seed: int | None = None) -> TaskValidation:
    return next(validate_tasks([question], launcher, device=device, seed=seed))
