"""Grading a whole class: every .py file of a folder, one launcher, one report per file.

A file that cannot be graded gets a row that says why (a syntax error, a symlink, a file that lies
outside the folder); one student's infinite loop, crash or malformed result costs only that
student. Untrusted code is graded only behind the strong walls unless the instructor says
otherwise (``allow_degraded``).

The local pool (``grade_folder``) and a dask cluster (``quizgen.grading.cluster``) share everything
around the grading itself: ``collect`` checks the files, ``in_folder_order`` puts refused files'
rows among the graded ones, ``require_strong`` refuses the degraded mode, and ``ClassResults``
builds the rows and writes the per-file results.json and summary.csv.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from quizgen.bank.models import Bank
from quizgen.errors import QuizgenError, UnusableSubmission
from quizgen.grading.report import Report
from quizgen.grading.runner import check_file, grade_many, grading_launcher
from quizgen.grading.static import CheckedSource
from quizgen.wire import Isolation

SUMMARY_FIELDS = ("file", "score", "max_score", "passed", "tests", "gradable", "seconds", "first_problem")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Files one pytest session grades in turn (each in its own worker); a session that dies partway keeps
# the file it was grading and hands the rest back to be graded one by one.
CLASS_BATCH = 8


class DegradedIsolation(QuizgenError):
    """The strong walls are not available here, and the caller did not accept the degraded mode."""


@dataclass(frozen=True)
class Entry:
    """One file of the class folder: checked and ready to grade, or refused with a reason."""

    name: str
    checked: CheckedSource | None = None
    refused: str = ""


def printable_name(path: Path) -> str:
    """The file's name as text that can be printed and written to a CSV (undecodable bytes escaped)."""
    return os.fsencode(path.name).decode("utf-8", "backslashreplace")


def refusal(path: Path, folder: Path) -> str:
    """Why ``path`` must not be graded as a student's file, or "" when it may be."""
    if printable_name(path) != path.name:
        return f"{printable_name(path)}: its name is not UTF-8 text; rename it (it was not graded)"
    if path.is_symlink():
        return f"{path.name}: is a symbolic link; submissions must be plain files (it was not graded)"
    resolved = path.resolve()
    if folder.resolve() not in resolved.parents:
        return f"{path.name}: lies outside {folder} (it was not graded)"
    if not resolved.is_file():
        return f"{path.name}: is not a regular file (it was not graded)"
    if resolved.stat().st_nlink > 1:
        return f"{path.name}: is a hard link to another file; submissions must be plain copies (it was not graded)"
    return ""


def collect(folder: Path, bank: Bank, question_id: int) -> list[Entry]:
    """Every ``*.py`` of ``folder`` (sorted by name), checked statically."""
    entries = []
    for path in sorted(folder.glob("*.py")):
        reason = refusal(path, folder)
        if not reason:
            try:
                entries.append(Entry(path.name, check_file(path, bank, question_id)))
                continue
            except UnusableSubmission as exc:
                reason = str(exc)
            except Exception as exc:  # noqa: BLE001 - one odd file never costs the class its gradebook
                reason = f"{path.name}: could not be read ({type(exc).__name__}: {exc})"
        entries.append(Entry(printable_name(path), refused=reason))
    return entries


def require_strong(isolation: Isolation, allow_degraded: bool, where: str = "") -> None:
    """Raise DegradedIsolation unless ``isolation`` is strong or the caller accepted the degraded mode."""
    if isolation.mode != "strong" and not allow_degraded:
        raise DegradedIsolation(f"the grading sandbox is degraded {where or 'here'} ({isolation.reason}); grading a "
                                "class's untrusted code needs the strong walls. Pass --allow-degraded to grade anyway.")


def refused_report(entry: Entry, question_id: int, device: str, seed: int | None) -> Report:
    return Report(question_id=question_id, file=entry.name, gradable=False, message=entry.refused,
                  isolation="not run", device=device, seed=seed)


def in_folder_order(entries: list[Entry], graded: Iterable[Report], question_id: int, *, device: str = "cpu",
                    seed: int | None = None) -> Iterator[Report]:
    """Every entry's report in the entries' order: ``graded`` holds the checked entries' reports, in order."""
    graded = iter(graded)
    for entry in entries:
        yield next(graded) if entry.checked else refused_report(entry, question_id, device, seed)


def grade_folder(folder: Path, bank: Bank, question_id: int, *, device: str = "cpu", seed: int | None = None,
                 allow_degraded: bool = False, parallel: int = 2,
                 entries: list[Entry] | None = None) -> Iterator[Report]:
    """Yield each file's report as soon as it is graded, in file-name order (``entries``: ``collect``'s, if
    the caller has them already)."""
    entries = collect(folder, bank, question_id) if entries is None else entries
    with grading_launcher([folder.resolve()], many_workers=True) as launcher:
        require_strong(launcher.isolation, allow_degraded)
        graded = grade_many([e.checked for e in entries if e.checked], launcher, device=device, seed=seed,
                            parallel=parallel, batch=CLASS_BATCH)
        yield from in_folder_order(entries, graded, question_id, device=device, seed=seed)


def _cell(value) -> str | float | int | bool:
    """A spreadsheet cell that can never be read as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def summary_row(report: Report) -> dict:
    passed = sum(t.passed for t in report.tests)
    if not report.gradable:
        problem = report.message
    else:
        first = report.failing[0] if report.failing else None
        problem = f"{first.title}: {first.message}" if first else ""
    return {"file": report.file, "score": report.score if report.gradable else "", "max_score": report.max_score,
            "passed": passed, "tests": len(report.tests), "gradable": report.gradable,
            "seconds": round(report.seconds, 2), "first_problem": problem.strip().splitlines()[0] if problem.strip() else ""}


def write_summary(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)


class ClassResults:
    """The rows of a class's grading; with ``out_dir``, FILE.results.json (Gradescope's schema) per file and
    summary.csv, rewritten after every file so that a crash keeps what was graded."""

    def __init__(self, out_dir: Path | None = None):
        self.out_dir = out_dir
        self.rows: list[dict] = []
        if out_dir:
            out_dir.mkdir(parents=True, exist_ok=True)

    def add(self, report: Report) -> dict:
        row = summary_row(report)
        self.rows.append(row)
        if self.out_dir:
            (self.out_dir / f"{report.file}.results.json").write_text(json.dumps(report.to_gradescope(), indent=2))
            write_summary(self.rows, self.out_dir / "summary.csv")
        return row
