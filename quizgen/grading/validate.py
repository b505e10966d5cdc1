"""`quiz validate`: prove each task's grading trustworthy. The reference scores 100, the stub 0, and
every known-wrong implementation under tests/mutants/ fails at least one test."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from quizgen.bank.models import Question
from quizgen.errors import UnusableSubmission
from quizgen.grading.report import Report
from quizgen.grading.runner import REFERENCE_FILE, grade_checked, suite_folder
from quizgen.grading.static import check_source
from quizgen.paths import bundled_root

MUTANTS_DIR = Path("tests") / "mutants"


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
    folder = bundled_root() / MUTANTS_DIR / question.folder_name
    return sorted(folder.glob("*.py")) if folder.is_dir() else []


def _grade_source(source: str, name: str, question: Question, launcher, device: str, seed: int | None) -> Report:
    class OneQuestionBank:
        questions = [question]

        @staticmethod
        def get(_):
            return question

    checked = check_source(source, name, OneQuestionBank, question.id)
    return grade_checked(checked, launcher, device=device, seed=seed)


def validate_task(question: Question, launcher, *, device: str = "cpu", seed: int | None = None) -> TaskValidation:
    result = TaskValidation(question)
    start = time.monotonic()
    try:
        folder = suite_folder(question)
    except UnusableSubmission as exc:
        result.problems.append(str(exc))
        return result
    reference_source = (folder / REFERENCE_FILE).read_text(encoding="utf-8")
    result.reference = _grade_source(reference_source, REFERENCE_FILE, question, launcher, device, seed)
    if not result.reference.all_passed:
        failing = ", ".join(t.name for t in result.reference.failing[:3]) or result.reference.message
        result.problems.append(f"reference scores {result.reference.score:g}/{result.reference.max_score:g} ({failing})")
    if abs(result.reference.max_score - 100) > 1e-6:
        result.problems.append(f"the suite's points add up to {result.reference.max_score:g}, not 100")
    result.stub = _grade_source(question.coding.stub, question.coding.stub_file, question, launcher, device, seed)
    if not result.stub.gradable or result.stub.score != 0:
        result.problems.append(f"the stub scores {result.stub.score:g} (must be 0){': ' + result.stub.message if result.stub.message else ''}")
    mutants = mutant_files(question)
    if len(mutants) < 5:
        result.problems.append(f"only {len(mutants)} known-wrong implementations (at least 5 wanted)")
    for path in mutants:
        try:
            report = _grade_source(path.read_text(encoding="utf-8"), path.name, question, launcher, device, seed)
        except UnusableSubmission as exc:
            result.problems.append(f"mutant {path.name} is not gradable: {exc}")
            continue
        rejected = report.gradable and not report.all_passed
        detail = report.failing[0].name if report.failing else report.message
        result.mutants.append(MutantOutcome(path.name, rejected, report.score, detail))
        if not rejected:
            result.problems.append(f"mutant {path.name} passes every test")
    result.seconds = time.monotonic() - start
    return result
