"""`quiz submit` as a service: check the file, grade it, record the attempt, render the report.

Called by the CLI in its own process, and by the grading server (``quizgen.grading.server``) for a
warm regrade; both give the same output and exit status: 0 every test passed, 1 some failed, 2 the
file is unusable.
"""

from __future__ import annotations

import contextlib
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
    from quizgen.bank import load_bank_for
    from quizgen.grading.runner import grade_checked, grading_launcher
    from quizgen.grading.static import check_source, header_question, read_source
    from quizgen.grading.terminal import render_report
    from quizgen.store import open_store

    source = read_source(path)
    with contextlib.ExitStack() as stack:
        if launcher is None:  # started first: it imports torch while this process checks the file
            launcher = stack.enter_context(grading_launcher([path.resolve().parent]))
        bank = load_bank_for(question_id if question_id is not None else header_question(source))
        checked = check_source(source, path.name, bank, question_id)
        if not as_json:
            say(f"Grading {path} as question {checked.question.id} ({checked.question.slug})…")
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
