"""Grade a submission: static checks, a sandboxed worker, and the hidden suite in a fresh trusted process.

Each grading run's pytest session lives in its own forked process (pytest warns against running
twice in one process); the parent keeps torch, pytest and the launcher warm, so a batch of
submissions pays for imports once. The trusted child writes results to a folder the worker never
sees, and the parent reads them even when the child dies halfway.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
import contextlib
from contextlib import contextmanager
from functools import cache
from dataclasses import dataclass
from pathlib import Path

from quizgen.bank.models import Bank, Question
from quizgen.grading.proxy import (Launcher, Submission, SubmissionFailure, SubmissionLoadError, WorkerLimits,
                                   kill_worker)
from quizgen.grading.report import Report, TestResult
from quizgen.grading.sandbox import Isolation
from quizgen.grading.static import CheckedSource, check_source, read_source
from quizgen.grading.task import Task
from quizgen.paths import solutions_dir, user_home

DEADLINE_SLACK_S = 1.5  # after the budget: time for the trusted child to write its last result


def worker_limits(question: Question, device: str) -> WorkerLimits:
    coding = question.coding
    return WorkerLimits(call_seconds=coding.time_limit_s, total_seconds=max(60.0, 4 * coding.time_limit_s),
                        memory_mb=coding.memory_limit_mb, device=device)


@contextmanager
def grading_launcher(extra_hidden: list[Path] = ()):
    """A launcher for a grading session; hides the solutions, the user's data and ``extra_hidden``."""
    launcher = Launcher(hide=[solutions_dir(), user_home(), *extra_hidden])
    try:
        yield launcher
    finally:
        launcher.close()


def _run_suite_in_child(checked: CheckedSource, launcher: Launcher, limits: WorkerLimits, results: Path,
                        seed: int, deadline: float, stop_at_first_failure: bool) -> None:
    """Body of the forked trusted process: load the submission, then run the suite. Never returns."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        if not os.environ.get("QUIZGEN_DEBUG"):
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            sys.stdout = sys.stderr = open(os.devnull, "w")  # also when an outer pytest captured them
        import torch

        torch.set_num_threads(1)  # two gradings share two cores; thread pools would only contend
        question = checked.question
        submission = Submission(launcher, checked.source, question.coding.functions, limits, checked.display_name,
                                deadline=deadline)
        try:
            submission.load()
        except SubmissionFailure as exc:
            what = "" if isinstance(exc, SubmissionLoadError) else "loading failed: "
            with results.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"not_gradable": f"{checked.display_name}: {what}{exc}"}) + "\n")
            os._exit(0)
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # third-party plugins have no say in a grade
        import pytest

        from quizgen.grading.plugin import GradingPlugin

        task = Task.of(question)
        folder = task.folder
        plugin = GradingPlugin(submission, task.load_reference(), results, seed, limits.device)
        try:
            pytest.main([str(task.suite_path), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                         "--rootdir", str(folder), "-o", "python_files=test_*.py", "--noconftest",
                         "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
                         "-W", "ignore", "--tb=no", "-o", "markers=points: weight of a test",
                         *(["-x"] if stop_at_first_failure else [])], plugins=[plugin])
        finally:
            submission.close()
    except BaseException:  # noqa: BLE001 - the parent reports what was written before this
        code = 1
    finally:
        os._exit(code)


def _read_results(path: Path) -> tuple[list[TestResult], str | None]:
    """The tests written so far, and the reason the file was not gradable, if it was not."""
    tests, not_gradable = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "not_gradable" in record:
            not_gradable = record["not_gradable"]
        else:
            tests.append(TestResult.model_validate({k: v for k, v in record.items() if k != "time"}))
    return tests, not_gradable


@dataclass
class PendingGrade:
    """A grading running in its own trusted process; ``wait()`` gives its report."""

    pid: int
    base: Report
    results_dir: tempfile.TemporaryDirectory
    start: float
    deadline: float
    status: int | None = None

    def done(self) -> bool:
        if self.status is None:
            finished, status = os.waitpid(self.pid, os.WNOHANG)
            if finished:
                self.status = status
            elif time.monotonic() > self.deadline + DEADLINE_SLACK_S:
                kill_worker(self.pid)
                os.waitpid(self.pid, 0)
                self.status = -1
        return self.status is not None

    def wait(self) -> Report:
        while not self.done():
            time.sleep(0.01)
        with self.results_dir:
            tests, not_gradable = _read_results(Path(self.results_dir.name) / "results.jsonl")
        seconds = time.monotonic() - self.start
        if not_gradable:
            return self.base.model_copy(update={"gradable": False, "message": not_gradable, "seconds": seconds})
        message = ""
        if self.status == -1:
            message = "grading stopped at its overall time limit; tests not reached are missing"
        elif not tests:
            message = "the hidden suite produced no results (a grader bug: please report it)"
        return self.base.model_copy(update={"tests": tests, "message": message, "seconds": seconds})


@cache
def _preload_for_children() -> None:
    """Import, once in the parent, what every forked grading would import: torch, pytest's built-in
    plugins and the grading helpers (about 0.1 s saved per grading)."""
    import importlib

    import torch  # noqa: F401
    from _pytest.config import default_plugins, essential_plugins

    for name in (*essential_plugins, *default_plugins):
        with contextlib.suppress(ImportError):
            importlib.import_module(f"_pytest.{name}")
    import quizgen.grading.plugin  # noqa: F401
    import quizgen.grading.suite  # noqa: F401


def start_grading(checked: CheckedSource, launcher: Launcher, *, device: str = "cpu", seed: int | None = None,
                  limits: WorkerLimits | None = None, stop_at_first_failure: bool = False) -> PendingGrade:
    """Fork the trusted process that grades ``checked``; several may run at once on one launcher.

    ``stop_at_first_failure`` ends the suite at the first test that does not pass: enough to know
    that a known-wrong file is rejected, not a grade to show anyone.
    """
    _preload_for_children()

    question = checked.question
    seed = secrets.randbits(31) if seed is None else seed
    limits = limits or worker_limits(question, device)
    start = time.monotonic()
    deadline = start + limits.total_seconds  # one budget for the whole grading, worker starts included
    base = Report(question_id=question.id, file=checked.display_name, device=device, seed=seed,
                  file_sha256=hashlib.sha256(checked.source.encode()).hexdigest(),
                  isolation=Isolation(**launcher.isolation).describe())
    results_dir = tempfile.TemporaryDirectory(prefix="quizgen-results-")
    results = Path(results_dir.name) / "results.jsonl"
    results.touch()
    gc.freeze()  # the child's collections then skip the parent's (torch-sized) heap
    pid = os.fork()
    if pid == 0:
        _run_suite_in_child(checked, launcher, limits, results, seed, deadline, stop_at_first_failure)
    return PendingGrade(pid, base, results_dir, start, deadline)


def grade_checked(checked: CheckedSource, launcher: Launcher, *, device: str = "cpu", seed: int | None = None,
                  limits: WorkerLimits | None = None) -> Report:
    """Grade a statically checked source. The returned report is never partial without saying so."""
    return start_grading(checked, launcher, device=device, seed=seed, limits=limits).wait()


def grade_many(jobs: list[CheckedSource], launcher: Launcher, *, parallel: int = 2,
               stop_at_first_failure: list[bool] | None = None, **options) -> Iterator[Report]:
    """Grade ``jobs`` with up to ``parallel`` running at once; reports come back in the order given.
    ``stop_at_first_failure``, if given, says per job whether its suite may stop at the first failure."""
    pending: list[PendingGrade] = []
    queue = list(zip(jobs, stop_at_first_failure or [False] * len(jobs)))
    while queue or pending:
        while queue and len(pending) < parallel:
            checked, stop = queue.pop(0)
            pending.append(start_grading(checked, launcher, stop_at_first_failure=stop, **options))
        yield pending.pop(0).wait()


def check_file(path: Path, bank: Bank, question_id: int | None) -> CheckedSource:
    return check_source(read_source(path), path.name, bank, question_id)


def grade_file(path: Path, bank: Bank, question_id: int | None = None, *, device: str = "cpu",
               seed: int | None = None) -> Report:
    """The one-call API: check, launch, grade. Raises UnusableSubmission for a file that cannot be graded."""
    checked = check_file(path, bank, question_id)
    with grading_launcher([path.resolve().parent]) as launcher:
        return grade_checked(checked, launcher, device=device, seed=seed)
