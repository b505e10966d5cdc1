"""Grading a whole class: every .py file of a folder, one launcher, one report per file.

A file that cannot be graded gets a not-gradable report with the reason; one student's infinite
loop or crash costs only that student's time budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from quizgen.bank.models import Bank
from quizgen.errors import UnusableSubmission
from quizgen.grading.report import Report
from quizgen.grading.runner import check_file, grade_many, grading_launcher
from quizgen.grading.static import CheckedSource


def grade_folder(folder: Path, bank: Bank, question_id: int, *, device: str = "cpu",
                 seed: int | None = None) -> Iterator[Report]:
    """Yield each file's report as soon as it is graded (sorted by file name), two at a time."""
    checked: dict[str, CheckedSource] = {}
    refused: dict[str, Report] = {}
    for path in sorted(p for p in folder.glob("*.py") if p.is_file()):
        try:
            checked[path.name] = check_file(path, bank, question_id)
        except UnusableSubmission as exc:
            refused[path.name] = Report(question_id=question_id, file=path.name, gradable=False, message=str(exc),
                                        isolation="not run", device=device, seed=seed)
    with grading_launcher([folder.resolve()]) as launcher:
        graded = grade_many(list(checked.values()), launcher, device=device, seed=seed)
        for name in sorted(checked.keys() | refused.keys()):
            yield refused[name] if name in refused else next(graded)
