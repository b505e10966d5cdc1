"""Golden reports (as exercism's test runner keeps them): known submissions must give exactly these
reports, in the terminal (120 columns) and as Gradescope's results.json. Timings and the machine's
isolation line are normalised; everything else (cases, messages, values, the mistake named) is fixed
by the seed.

Regenerate after a deliberate change with ``QUIZGEN_UPDATE_GOLDEN=1 pytest tests/test_golden_reports.py``
and read the diff.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from quizgen.bank import load_bank
from quizgen.grading.runner import grade_checked, grading_launcher
from quizgen.grading.static import check_source
from quizgen.grading.terminal import render_report

GOLDEN = Path(__file__).parent / "golden"
SEED = 20261201
CASES = sorted(p.stem for p in GOLDEN.glob("*.py"))


@pytest.fixture(scope="module")
def launcher():
    with grading_launcher() as instance:
        yield instance


def _normalised(report):
    return report.model_copy(update={
        "seconds": 0.0, "isolation": "<isolation>", "isolation_mode": "<mode>",
        "tests": [t.model_copy(update={"seconds": 0.0}) for t in report.tests]})


@pytest.mark.parametrize("case", CASES)
def test_report_matches_its_golden_file(case, launcher):
    source = (GOLDEN / f"{case}.py").read_text()
    bank = load_bank()
    report = _normalised(grade_checked(check_source(source, f"{case}.py", bank, None), launcher, seed=SEED))
    buffer = io.StringIO()
    render_report(Console(file=buffer, width=120, color_system=None, highlight=False, soft_wrap=False), report)
    terminal = buffer.getvalue()
    results = json.dumps(report.to_gradescope(), indent=2, sort_keys=True) + "\n"
    text_file, json_file = GOLDEN / f"{case}.report.txt", GOLDEN / f"{case}.results.json"
    if os.environ.get("QUIZGEN_UPDATE_GOLDEN"):
        text_file.write_text(terminal)
        json_file.write_text(results)
    assert terminal == text_file.read_text(), f"the terminal report of {case} changed"
    assert results == json_file.read_text(), f"the Gradescope results of {case} changed"
    assert len(terminal.splitlines()) <= 40 or report.all_passed, "a failing report should fit in 40 lines"
