"""Gradescope's ``run_autograder``: grade the submission and write ``results/results.json``.

    python -m quizgen.gradescope.run        (QUIZGEN_AUTOGRADER_ROOT moves /autograder, for tests)

Gradescope's layout under the root: ``source/`` (the unpacked zip: ``quizgen-autograder.json``, the
wheel, the scripts), ``submission/`` (the student's files), ``results/results.json`` (ours to write).
The whole root is hidden from the sandbox's workers: the student's code cannot reach the zip, the
submission metadata (which names the student) or the results. The hidden suites live in the
installed wheel, hidden as on any machine. Each file gets a fresh seed; the attempt is not stored.

Whatever happens, a valid results.json is written: a file that cannot be graded gets score 0 and the
reason, and a failure of the grader itself says so instead of leaving Gradescope without a result.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import traceback
from pathlib import Path

from quizgen.gradescope.build import CONFIG_NAME, AutograderConfig
from quizgen.grading.report import Report

ROOT_ENV = "QUIZGEN_AUTOGRADER_ROOT"
DEFAULT_ROOT = Path("/autograder")


def autograder_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def submission_files(root: Path, config: AutograderConfig) -> list[Path]:
    """The files to grade: the one the instructor named, or every ``*.py`` of the submission (at its top
    level, else anywhere in it, for a student who uploaded a folder)."""
    folder = root / "submission"
    if config.file:
        return [folder / config.file]
    return sorted(folder.glob("*.py")) or sorted(folder.rglob("*.py"))


def _refused(name: str, question_id: int, message: str, seed: int) -> Report:
    return Report(question_id=question_id, file=name, gradable=False, message=message, isolation="not run", seed=seed)


def grade_files(paths: list[Path], folder: Path, question_id: int, launcher_for) -> list[Report]:
    """Grade each of ``paths`` with a fresh seed; ``launcher_for()`` gives the launcher (started on first
    need, so a file refused by the static check costs no sandbox start)."""
    from quizgen.bank import load_bank
    from quizgen.errors import UnusableSubmission
    from quizgen.grading.batch import refusal
    from quizgen.grading.runner import grade_checked
    from quizgen.grading.static import check_source, read_source

    bank = load_bank()
    reports = []
    for path in paths:
        seed = secrets.randbits(31)
        name = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else path.name
        if not path.exists() and not path.is_symlink():
            reports.append(_refused(name, question_id, f"{name}: was not submitted; upload a file with exactly "
                                                       "this name", seed))
            continue
        reason = refusal(path, folder)
        if not reason:
            try:
                checked = check_source(read_source(path), name, bank, question_id)
            except UnusableSubmission as exc:
                reason = str(exc)
        if reason:
            reports.append(_refused(name, question_id, reason, seed))
            continue
        reports.append(grade_checked(checked, launcher_for(), seed=seed))
    return reports


def results_json(reports: list[Report], config: AutograderConfig, question_file: str) -> dict:
    """Gradescope's results for the submission: one file's report, or the best of several (with a line
    naming every file's score)."""
    if not reports:
        return {"score": 0.0, "execution_time": 0.0, "tests": [], "visibility": config.visibility,
                "output": f"No .py file was submitted: upload your {question_file}."}
    best = max(reports, key=lambda r: (r.gradable, r.score))
    results = best.to_gradescope()
    if len(reports) > 1:
        scores = ", ".join(f"{r.file} {r.score:g}" if r.gradable else f"{r.file} not gradable" for r in reports)
        results["output"] = (f"{len(reports)} files were submitted; the grade is the best of them, {best.file} "
                             f"({scores}).\n{results['output']}")
        results["execution_time"] = round(sum(r.seconds for r in reports), 3)
    results["visibility"] = config.visibility
    for test in results["tests"]:
        test["visibility"] = config.visibility
    return results


def run(root: Path) -> dict:
    """Grade ``root/submission`` as ``root/source``'s config says; returns what it wrote to results.json."""
    from quizgen.bank import load_bank
    from quizgen.grading.runner import grading_launcher

    config = AutograderConfig.from_json((root / "source" / CONFIG_NAME).read_text(encoding="utf-8"))
    question = load_bank().get(config.question)
    paths = submission_files(root, config)
    with contextlib.ExitStack() as stack:
        started = []

        def launcher_for():
            if not started:
                started.append(stack.enter_context(grading_launcher([root.resolve()])))
            return started[0]

        reports = grade_files(paths, root / "submission", config.question, launcher_for)
    results = results_json(reports, config, question.coding.stub_file if question.coding else "file")
    write_results(root, results)
    return results


def write_results(root: Path, results: dict) -> None:
    folder = root / "results"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


def main() -> int:
    root = autograder_root()
    try:
        run(root)
    except Exception as exc:  # noqa: BLE001 - Gradescope must get a result, and the instructor the reason
        traceback.print_exc()
        write_results(root, {"score": 0.0, "tests": [], "output": f"The autograder failed ({type(exc).__name__}: "
                                                                 f"{exc}); the submission was not graded. Please "
                                                                 "tell your instructor."})
    return 0


if __name__ == "__main__":
    sys.exit(main())
