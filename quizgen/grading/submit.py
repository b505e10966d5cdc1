"""`quiz submit` as a service: check the file, grade it, record the attempt, render the report.

Called by the CLI in its own process, and by the grading server (``quizgen.grading.server``) for a
warm regrade; both give the same output and exit status: 0 every test passed, 1 some failed, 2 the
file is unusable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from quizgen.grading.client import Launcher
from quizgen.grading.report import Report


def exit_status(report: Report) -> int:
    return 0 if report.all_passed else 1 if report.gradable else 2


def submit_file(path: Path, question_id: int | None, out: Console, say: Callable[[str], None], *,
                launcher: Launcher | None = None, device: str = "cpu", seed: int | None = None,
                as_json: bool = False, verbose: bool = False) -> int:
    """Grade ``path``; raises ``UnusableSubmission`` (file:line) when it cannot be graded. ``say``
    gets the progress line; ``out`` the report. Returns the exit status."""
    from quizgen.bank import load_bank
    from quizgen.grading.runner import check_file, grade_checked, grading_launcher
    from quizgen.grading.terminal import render_report
    from quizgen.store import open_store

    checked = check_file(path, load_bank(), question_id)
    if not as_json:
        say(f"Grading {path} as question {checked.question.id} ({checked.question.slug})…")
    if launcher is None:
        with grading_launcher([path.resolve().parent]) as own:
            report = grade_checked(checked, own, device=device, seed=seed)
    else:
        report = grade_checked(checked, launcher, device=device, seed=seed)
    if report.gradable and not report.nothing_implemented:
        store = open_store()
        for notice in store.notices:
            say(f"Warning: {notice}")
        store.record_attempt(report)
    if as_json:
        out.out(json.dumps(report.to_gradescope(), indent=2), highlight=False)
    else:
        render_report(out, report, verbose=verbose)
    return exit_status(report)
