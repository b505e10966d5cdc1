"""Grade a submission: static checks, a sandboxed worker, and the hidden suite in a fresh trusted process.

Each grading's pytest session runs in its own forked process (pytest warns against running twice
in one process). It reports over a pipe it inherited, never through a file: first the tests it
collected, then each result. This parent reads the pipe against an absolute deadline, kills the
grading process when the deadline passes (its workers die with it, through their lifelines), and
builds the report from what arrived: a collected test that never reported is "not-run".
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import hashlib
import os
import resource
import secrets
import select
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from quizgen.bank.models import Bank, Question
from quizgen.grading.client import Launcher, SandboxError, Submission, SubmissionLoadError
from quizgen.grading.records import (Collected, Done, Finished, MalformedRecord, NotGradable, PlannedTest, RecordReader,
                                     write_record)
from quizgen.grading.report import Report, Status, TestResult
from quizgen.grading.static import CheckedSource, check_source, read_source
from quizgen.grading.task import Task
from quizgen.paths import bundled_root, solutions_dir, user_home
from quizgen.wire import WorkerLimits

# pytest plugins a grading never uses; each costs time per test (logging alone ~2 ms).
_UNUSED_PLUGINS = [arg for name in ("logging", "warnings", "junitxml", "pastebin", "doctest", "nose", "stepwise",
                                    "lfplugin", "setuponly", "setupplan", "tmpdir", "monkeypatch", "recwarn")
                   for arg in ("-p", f"no:{name}")]
DEADLINE_SLACK_S = 3.0  # after the budget: time for the grading process to report its last results
TRUSTED_MEMORY_MB = 4096  # the grading process's own address-space limit, beyond its start


def worker_limits(question: Question, device: str) -> WorkerLimits:
    """One call may take ``time_limit_s``; the whole grading has room for every function to time out once."""
    coding = question.coding
    total = max(60.0, (len(coding.functions) + 3) * coding.time_limit_s)
    return WorkerLimits(call_seconds=coding.time_limit_s, total_seconds=total, memory_mb=coding.memory_limit_mb,
                        device=device)


def hidden_paths(extra: list[Path] = ()) -> list[Path]:
    """What no worker may see: the hidden suites and references, the user's data (progress database),
    a checkout's git history (which holds the solutions too), and ``extra`` (submissions' folders)."""
    return [solutions_dir(), user_home(), bundled_root() / ".git", *extra]


@contextmanager
def grading_launcher(extra_hidden: list[Path] = ()):
    launcher = Launcher(hide=hidden_paths(list(extra_hidden)))
    try:
        yield launcher
    finally:
        launcher.close()


def _protect_trusted_process(device: str) -> None:
    """No process of the same user may read this one's memory or pipes through /proc or ptrace, and it
    runs under its own memory limit (a flood of results cannot take the machine down)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
        if device == "cpu":
            with open("/proc/self/status") as status:
                vm = next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:")), 0)
            cap = vm + (TRUSTED_MEMORY_MB << 20)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _run_suite_in_child(checked: CheckedSource, launcher: Launcher, limits: WorkerLimits, out_fd: int, seed: int,
                        deadline: float, stop_at_first_failure: bool, diagnose: bool) -> None:
    """Body of the forked trusted process. Never returns."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        if not os.environ.get("QUIZGEN_DEBUG"):
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            sys.stdout = sys.stderr = open(os.devnull, "w")  # also when an outer pytest captured them
        _protect_trusted_process(limits.device)
        import torch

        torch.set_num_threads(1)  # gradings run side by side; thread pools would only contend
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # third-party plugins have no say in a grade
        import pytest

        from quizgen.grading.diagnose import Diagnoser
        from quizgen.grading.plugin import GradingPlugin

        question = checked.question
        task = Task.of(question)
        submission = Submission(launcher, checked.source, question.coding.functions, limits, checked.display_name,
                                deadline=deadline, forbid_ops=question.coding.forbidden_ops)
        reference = task.load_reference()
        plugin = GradingPlugin(submission, reference, out_fd, seed, limits.device, question.coding.functions,
                               Diagnoser(task, reference) if diagnose else None)
        try:
            pytest.main([str(task.suite_path), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                         "--rootdir", str(task.folder), "-o", "python_files=test_*.py", "--noconftest",
                         "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
                         "-W", "ignore", "--tb=no", "--capture=no", *_UNUSED_PLUGINS,
                         *(["-x"] if stop_at_first_failure else [])], plugins=[plugin])
        finally:
            submission.close()
        if plugin.load_error is not None:
            error = plugin.load_error
            what = ("" if isinstance(error, SubmissionLoadError) else
                    "the grading sandbox failed: " if isinstance(error, SandboxError) else "loading failed: ")
            write_record(out_fd, NotGradable(message=f"{checked.display_name}: {what}{error}"))
    except BaseException:  # noqa: BLE001 - the parent reports what arrived before this
        code = 1
    finally:
        os._exit(code)


@dataclass
class PendingGrade:
    """A grading running in its own trusted process; ``wait()`` gives its report."""

    pid: int
    fd: int
    base: Report
    start: float
    deadline: float
    reader: RecordReader = field(default_factory=RecordReader)
    planned: list[PlannedTest] | None = None
    results: dict[str, TestResult] = field(default_factory=dict)
    not_gradable: str | None = None
    error: str | None = None
    finished: bool = False  # the pipe is closed (or given up on)
    killed: bool = False

    def pump(self) -> None:
        """Read what the grading process has written; call when the pipe is readable."""
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close()
            return
        try:
            records = self.reader.feed(data)
        except MalformedRecord as exc:
            self.error = str(exc)
            self.kill()
            return
        for record in records:
            if isinstance(record, Collected) and self.planned is None:
                self.planned = record.tests
            elif isinstance(record, Finished) and self.planned is not None:
                known = {p.id for p in self.planned}
                if record.result.id in known and record.result.id not in self.results:
                    self.results[record.result.id] = record.result
            elif isinstance(record, NotGradable):
                self.not_gradable = record.message
            elif isinstance(record, Done):
                pass
            else:
                self.error = f"an out-of-order record ({record.type})"
                self.kill()
                return

    def check_deadline(self) -> None:
        if not self.finished and time.monotonic() > self.deadline + DEADLINE_SLACK_S:
            self.killed = True
            self.kill()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self._close()

    def _close(self) -> None:
        if not self.finished:
            self.finished = True
            os.close(self.fd)
            os.waitpid(self.pid, 0)

    def wait(self) -> Report:
        wait_for([self])
        return self.report()

    def report(self) -> Report:
        seconds = time.monotonic() - self.start
        if self.error:
            return self.base.model_copy(update={"gradable": False, "seconds": seconds,
                                                "message": f"grader error: {self.error}; the file was not graded"})
        if self.not_gradable:
            return self.base.model_copy(update={"gradable": False, "message": self.not_gradable, "seconds": seconds})
        if self.planned is None:
            return self.base.model_copy(update={"gradable": False, "seconds": seconds,
                                                "message": "grader error: the hidden suite reported no tests"})
        why = ("not run: the grading stopped at its overall time limit" if self.killed
               else "not run: the grading process ended before this test")
        tests = [self.results.get(p.id) or TestResult(**p.model_dump(), status=Status.NOT_RUN, message=why)
                 for p in self.planned]
        message = "the grading stopped at its overall time limit" if self.killed else ""
        return self.base.model_copy(update={"tests": tests, "message": message, "seconds": seconds})


def wait_for(pending: list[PendingGrade], until_first: bool = False) -> None:
    """Read every grading's pipe until all are finished (or, with ``until_first``, the first one)."""
    while any(not p.finished for p in pending):
        if until_first and pending[0].finished:
            return
        live = [p for p in pending if not p.finished]
        timeout = max(0.0, min(p.deadline + DEADLINE_SLACK_S for p in live) - time.monotonic()) + 0.05
        readable, _, _ = select.select([p.fd for p in live], [], [], min(timeout, 1.0))
        for p in live:
            if p.fd in readable:
                p.pump()
            p.check_deadline()


@cache
def _preload_for_children() -> None:
    """Import, once in the parent, what every forked grading would import: torch, pytest's built-in
    plugins and the grading helpers."""
    import importlib

    import torch  # noqa: F401
    from _pytest.config import default_plugins, essential_plugins

    for name in (*essential_plugins, *default_plugins):
        with contextlib.suppress(ImportError):
            importlib.import_module(f"_pytest.{name}")
    import quizgen.grading.plugin  # noqa: F401
    import quizgen.grading.suite  # noqa: F401


def start_grading(checked: CheckedSource, launcher: Launcher, *, device: str = "cpu", seed: int | None = None,
                  limits: WorkerLimits | None = None, stop_at_first_failure: bool = False,
                  diagnose: bool = True) -> PendingGrade:
    """Fork the trusted process that grades ``checked``; several may run at once on one launcher.

    ``stop_at_first_failure`` ends the suite at the first test that does not pass: enough to know
    that a known-wrong file is rejected, not a grade to show anyone.
    """
    _preload_for_children()
    question = checked.question
    seed = secrets.randbits(31) if seed is None else seed
    limits = limits or worker_limits(question, device)
    isolation = launcher.isolation
    start = time.monotonic()
    deadline = start + limits.total_seconds  # one budget for the whole grading, worker starts included
    base = Report(question_id=question.id, file=checked.display_name, device=device, seed=seed,
                  file_sha256=hashlib.sha256(checked.source.encode()).hexdigest(),
                  isolation=isolation.describe(), isolation_mode=isolation.mode)
    read_end, write_end = os.pipe()
    gc.freeze()  # the child's collections then skip the parent's (torch-sized) heap
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _run_suite_in_child(checked, launcher, limits, write_end, seed, deadline, stop_at_first_failure, diagnose)
    os.close(write_end)
    os.set_blocking(read_end, False)
    return PendingGrade(pid, read_end, base, start, deadline)


def grade_checked(checked: CheckedSource, launcher: Launcher, *, device: str = "cpu", seed: int | None = None,
                  limits: WorkerLimits | None = None) -> Report:
    """Grade a statically checked source. The report always covers every test of the suite."""
    return start_grading(checked, launcher, device=device, seed=seed, limits=limits).wait()


@dataclass(frozen=True)
class Options:
    """How one file is graded, beyond the file itself."""

    device: str = "cpu"
    seed: int | None = None
    limits: WorkerLimits | None = None
    stop_at_first_failure: bool = False  # enough to know a known-wrong file is rejected; not a grade
    diagnose: bool = True  # name the known mistake a failure looks like


def grade_many(jobs: list[CheckedSource], launcher: Launcher, *, parallel: int = 2,
               options: list[Options] | None = None, **common) -> Iterator[Report]:
    """Grade ``jobs`` with up to ``parallel`` running at once; reports come back in the order given.
    ``options`` holds one ``Options`` per job; otherwise ``common`` (its fields) applies to all."""
    per_job = options or [Options(**common)] * len(jobs)
    pending: list[PendingGrade] = []
    queue = list(zip(jobs, per_job))
    while queue or pending:
        while queue and len(pending) < parallel:
            checked, opts = queue.pop(0)
            pending.append(start_grading(checked, launcher, **vars(opts)))
        wait_for(pending, until_first=True)
        yield pending.pop(0).report()


def check_file(path: Path, bank: Bank, question_id: int | None) -> CheckedSource:
    return check_source(read_source(path), path.name, bank, question_id)


def grade_file(path: Path, bank: Bank, question_id: int | None = None, *, device: str = "cpu",
               seed: int | None = None) -> Report:
    """The one-call API: check, launch, grade. Raises UnusableSubmission for a file that cannot be graded."""
    checked = check_file(path, bank, question_id)
    with grading_launcher([path.resolve().parent]) as launcher:
        return grade_checked(checked, launcher, device=device, seed=seed)
