"""Grade submissions: static checks, sandboxed workers, and the hidden suite in fresh trusted processes.

Each pytest session runs in its own forked process (pytest warns against running twice in one
process) and grades one file, or a batch of files of one question in turn. It reports over a pipe
it inherited, never through a file: for each file the tests it collected, then each result. This
parent reads the pipe against each file's own deadline, kills the grading process when one passes
(its workers die with it, through their lifelines), and builds every report from what arrived: a
collected test that never reported is "not-run", and files a killed process had not started are
graded again, each on its own.
"""

from __future__ import annotations

import atexit
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
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from quizgen.bank.models import Bank, Question
from quizgen.grading.client import Launcher, SandboxError
from quizgen.grading.records import (
    Collected,
    Done,
    Finished,
    MalformedRecord,
    NotGradable,
    PlannedTest,
    RecordReader,
)
from quizgen.grading.report import Report, Status, TestResult, hold_back_error_points
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
    """What no worker may see: the hidden suites, references and known-wrong files of every copy of
    quizgen this Python can see (the one in use, an older wheel left in site-packages, a checkout,
    with its git history, tests and built wheels), the user's data, and ``extra`` (submissions' folders)."""
    return [solutions_dir(), user_home(), *_bank_copies(), *extra]


def _bank_copies() -> list[Path]:
    """Where copies of the solutions may lie: ``quizgen/_bundled`` in any site-packages (a wheel; an
    editable install by hatchling copies the data there too) and a checkout's root."""
    roots = {bundled_root().resolve()}
    for entry in sys.path:
        base = Path(entry or ".").resolve()
        if (base / "quizgen" / "_bundled").is_dir():
            roots.add(base / "quizgen" / "_bundled")
        if (base / "quizgen" / "__init__.py").is_file() and (base / "solutions").is_dir():
            roots.add(base)
    return [root / name for root in sorted(roots) for name in ("solutions", "tests", ".git", "dist", "build")
            if (root / name).exists()]


@contextmanager
def grading_launcher(extra_hidden: list[Path] = (), *, many_workers: bool = False):
    launcher = Launcher(hide=hidden_paths(list(extra_hidden)), many_workers=many_workers)
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


@dataclass(frozen=True)
class Options:
    """How one file is graded, beyond the file itself."""

    device: str = "cpu"
    seed: int | None = None
    limits: WorkerLimits | None = None
    stop_at_first_failure: bool = False  # enough to know a known-wrong file is rejected; not a grade
    diagnose: bool = True  # name the known mistake a failure looks like
    try_first: tuple[str, ...] = ()  # with stop_at_first_failure: tests to run first


@dataclass(frozen=True)
class Job:
    checked: CheckedSource
    options: Options = Options()


def _run_session_in_child(jobs: list[Job], seeds: list[int], launcher: Launcher, out_fd: int) -> None:
    """Body of the forked trusted process: one pytest session grades every job in turn. Never returns."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        if not os.environ.get("QUIZGEN_DEBUG"):
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the child's life; also when an outer pytest captured them
        device = jobs[0].options.device
        _protect_trusted_process(device)
        import torch

        torch.set_num_threads(1)  # gradings run side by side; thread pools would only contend
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # third-party plugins have no say in a grade
        import pytest

        from quizgen.grading.diagnose import Diagnoser
        from quizgen.grading.plugin import FileToGrade, GradingPlugin

        question = jobs[0].checked.question
        task = Task.of(question)
        files = [FileToGrade(j.checked.source, j.checked.display_name, seed, _limits_of(j),
                             j.options.stop_at_first_failure, j.options.diagnose, j.options.try_first)
                 for j, seed in zip(jobs, seeds)]
        reference = task.load_reference()
        plugin = GradingPlugin(files, launcher, reference, out_fd, device, question.coding.functions,
                               question.coding.forbidden_ops, Diagnoser(task, reference))
        pytest.main([str(task.suite_path), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                     "--rootdir", str(task.folder), "-o", "python_files=test_*.py", "--noconftest",
                     "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
                     "-W", "ignore", "--tb=no", "--capture=no", *_UNUSED_PLUGINS], plugins=[plugin])
    except BaseException:  # noqa: BLE001 - the parent reports what arrived before this
        code = 1
    finally:
        os._exit(code)


def _limits_of(job: Job) -> WorkerLimits:
    return job.options.limits or worker_limits(job.checked.question, job.options.device)


@dataclass
class _Progress:
    """What has arrived for one job of a session."""

    planned: list[PlannedTest] | None = None
    results: dict[str, TestResult] = field(default_factory=dict)
    not_gradable: str | None = None
    complete: bool = False  # its done or not_gradable record arrived
    started: float | None = None  # when its collected record arrived


@dataclass
class Session:
    """A trusted grading process that grades ``jobs`` in turn; the parent reads its pipe."""

    pid: int
    fd: int
    jobs: list[Job]
    bases: list[Report]
    start: float
    launcher: Launcher
    reader: RecordReader = field(default_factory=RecordReader)
    progress: list[_Progress] = field(default_factory=list)
    error: str | None = None
    finished: bool = False  # the pipe is closed (or given up on)
    killed: bool = False

    def __post_init__(self) -> None:
        self.progress = [_Progress() for _ in self.jobs]

    def _budget(self, index: int) -> float:
        return _limits_of(self.jobs[index]).total_seconds + DEADLINE_SLACK_S

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
            if not 0 <= record.job < len(self.jobs):
                self.error = f"a record for an unknown file ({record.job})"
                self.kill()
                return
            progress = self.progress[record.job]
            if isinstance(record, Collected) and progress.planned is None:
                progress.planned, progress.started = record.tests, time.monotonic()
            elif isinstance(record, Finished) and progress.planned is not None and not progress.complete:
                if record.result.id in {p.id for p in progress.planned}:
                    progress.results.setdefault(record.result.id, record.result)
            elif isinstance(record, NotGradable):
                progress.not_gradable, progress.complete = record.message, True
            elif isinstance(record, Done):
                progress.complete = True
            else:
                self.error = f"an out-of-order record ({record.type})"
                self.kill()
                return

    def current(self) -> int | None:
        """The job being graded now (the first that is not complete)."""
        return next((i for i, p in enumerate(self.progress) if not p.complete), None)

    def check_deadline(self) -> None:
        """Each job has its own budget from the moment it started (the session's start for the first)."""
        if self.finished:
            return
        index = self.current()
        if index is None:
            return
        began = self.progress[index].started or (self.start if index == 0 else None)
        if began is None:  # between two jobs: the previous one's end starts the clock
            began = max(p.started or self.start for p in self.progress[:index])
        if time.monotonic() > began + self._budget(index):
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

    def retire(self) -> None:
        """Every file is reported: close the pipe now and reap the process once it has exited (it is
        ending pytest), without waiting for it. A long-lived process (the server, a notebook) would
        otherwise keep a pipe and a zombie per grading."""
        if not self.finished:
            self.finished = True
            os.close(self.fd)
            with _retired_lock:
                _retired.append((self.pid, time.monotonic()))
        reap_retired()

    def started(self, index: int) -> bool:
        return self.progress[index].planned is not None or self.progress[index].not_gradable is not None

    def report(self, index: int) -> Report:
        try:
            isolation = self.launcher.isolation
            described, mode = isolation.describe(), isolation.mode
        except SandboxError as exc:
            described, mode = f"none: {exc}", "none"
        base = self.bases[index].model_copy(update={"isolation": described, "isolation_mode": mode})
        progress = self.progress[index]
        seconds = time.monotonic() - (progress.started or self.start)
        if self.error and not progress.complete:
            return base.model_copy(update={"gradable": False, "seconds": seconds,
                                           "message": f"grader error: {self.error}; the file was not graded"})
        if progress.not_gradable:
            return base.model_copy(update={"gradable": False, "message": progress.not_gradable, "seconds": seconds})
        if progress.planned is None:
            return base.model_copy(update={"gradable": False, "seconds": seconds,
                                           "message": "grader error: the hidden suite reported no tests"})
        if progress.complete:  # a known-wrong file stops at its first failure
            why = "not run: grading stopped at the first failure"
        elif self.killed:
            why = "not run: the grading stopped at its overall time limit"
        else:
            why = "not run: the grading process ended before this test"
        tests = hold_back_error_points([progress.results.get(p.id) or TestResult(**p.model_dump(), status=Status.NOT_RUN,
                                                                                 message=why)
                                        for p in progress.planned])
        message = "the grading stopped at its overall time limit" if self.killed and not progress.complete else ""
        return base.model_copy(update={"tests": tests, "message": message, "seconds": seconds})


_retired: list[tuple[int, float]] = []  # (pid, when) of sessions whose files are all reported
_retired_lock = threading.Lock()  # a dask worker grades in several threads
RETIRED_GRACE_S = 5.0  # then a session still ending is killed


def reap_retired(final: bool = False) -> None:
    """Reap the retired sessions that have exited; kill one still running past its grace or, when
    ``final`` (at exit), after a last half second: nothing outlives the command."""
    with _retired_lock:
        _reap(final)


def _reap(final: bool) -> None:
    last_wait_ends = time.monotonic() + 0.5
    still_ending = []
    for pid, since in _retired:
        give_up_at = last_wait_ends if final else since + RETIRED_GRACE_S
        while not _exited(pid):
            if time.monotonic() > give_up_at:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                _exited(pid, block=True)
                break
            if final:
                time.sleep(0.01)
            else:
                still_ending.append((pid, since))  # a later call reaps it
                break
    _retired[:] = still_ending


def _exited(pid: int, block: bool = False) -> bool:
    """Reap ``pid`` if it has exited (waiting for it when ``block``)."""
    try:
        return os.waitpid(pid, 0 if block else os.WNOHANG)[0] != 0
    except ChildProcessError:
        return True


atexit.register(reap_retired, final=True)


def _wait(sessions: list[Session], until) -> None:
    """Read every session's pipe until ``until()`` holds or all are finished."""
    while not until() and any(not s.finished for s in sessions):
        live = [s for s in sessions if not s.finished]
        readable, _, _ = select.select([s.fd for s in live], [], [], 0.25)
        for s in live:
            if s.fd in readable:
                s.pump()
            s.check_deadline()


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
    import quizgen.grading.plugin
    import quizgen.grading.suite  # noqa: F401


def start_session(jobs: list[Job], launcher: Launcher) -> Session:
    """Fork the trusted process that grades ``jobs`` (all of one question) in turn."""
    _preload_for_children()
    launcher.preload(jobs[0].checked.question.coding.preload)
    seeds = [j.options.seed if j.options.seed is not None else secrets.randbits(31) for j in jobs]
    # The isolation is filled in with the report: the grading process starts (collects its suite)
    # while the launcher may still be importing torch.
    bases = [Report(question_id=j.checked.question.id, file=j.checked.display_name, device=j.options.device, seed=seed,
                    file_sha256=hashlib.sha256(j.checked.source.encode()).hexdigest())
             for j, seed in zip(jobs, seeds)]
    read_end, write_end = os.pipe()
    gc.freeze()  # the child's collections then skip the parent's (torch-sized) heap
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _run_session_in_child(jobs, seeds, launcher, write_end)
    os.close(write_end)
    os.set_blocking(read_end, False)
    return Session(pid, read_end, jobs, bases, time.monotonic(), launcher)


@dataclass
class PendingGrade:
    """One file being graded in its own trusted process; ``wait()`` gives its report."""

    session: Session

    @property
    def pid(self) -> int:
        return self.session.pid

    def wait(self) -> Report:
        _wait([self.session], lambda: self.session.progress[0].complete)
        report = self.session.report(0)
        self.session.retire()
        return report


def start_grading(checked: CheckedSource, launcher: Launcher, **options) -> PendingGrade:
    """Start grading one file (``options``: the fields of ``Options``) without waiting for it."""
    return PendingGrade(start_session([Job(checked, Options(**options))], launcher))


def grade_checked(checked: CheckedSource, launcher: Launcher, *, device: str = "cpu", seed: int | None = None,
                  limits: WorkerLimits | None = None) -> Report:
    """Grade a statically checked source. The report always covers every test of the suite."""
    return start_grading(checked, launcher, device=device, seed=seed, limits=limits).wait()


def grade_many(jobs: list[CheckedSource], launcher: Launcher, *, parallel: int = 2, batch: int = 1,
               options: list[Options] | None = None, **common) -> Iterator[Report]:
    """Grade ``jobs`` with up to ``parallel`` trusted processes at once, each grading up to ``batch``
    consecutive files of one question in turn; reports come back in the order given.

    ``options`` holds one ``Options`` per job; otherwise ``common`` (its fields) applies to all. When a
    process dies or is stopped partway, the file it was grading keeps what was reported (the rest
    "not-run"), and the files it had not started are graded again, each in a process of its own.
    """
    per_job = options or [Options(**common)] * len(jobs)
    queue: list[list[int]] = []
    for index, (checked, _) in enumerate(zip(jobs, per_job)):
        if queue and len(queue[-1]) < batch and jobs[queue[-1][0]].question.id == checked.question.id:
            queue[-1].append(index)
        else:
            queue.append([index])
    running: list[tuple[Session, list[int]]] = []
    done: dict[int, Report] = {}

    def collect() -> None:
        for session, indices in list(running):
            for position, index in enumerate(indices):
                if index not in done and session.progress[position].complete:
                    done[index] = session.report(position)
            if not session.finished and all(index in done for index in indices):
                session.retire()
            if not session.finished:
                continue
            running.remove((session, indices))
            retry = []
            for position, index in enumerate(indices):
                if index in done:
                    continue
                if session.started(position) or len(indices) == 1:
                    done[index] = session.report(position)  # what it reported stands; the rest is not-run
                else:
                    retry.append(index)
            queue[:0] = [[index] for index in retry]

    def progressed() -> bool:
        return any(session.finished or any(i not in done and session.progress[p].complete for p, i in enumerate(ix))
                   for session, ix in running)

    for next_index in range(len(jobs)):
        while next_index not in done:
            while queue and len(running) < parallel:
                indices = queue.pop(0)
                session = start_session([Job(jobs[i], per_job[i]) for i in indices], launcher)
                running.append((session, indices))
            _wait([s for s, _ in running], progressed)
            collect()
        yield done.pop(next_index)


def check_file(path: Path, bank: Bank, question_id: int | None) -> CheckedSource:
    return check_source(read_source(path), path.name, bank, question_id)


def grade_file(path: Path, bank: Bank, question_id: int | None = None, *, device: str = "cpu",
               seed: int | None = None) -> Report:
    """The one-call API: check, launch, grade. Raises UnusableSubmission for a file that cannot be graded."""
    checked = check_file(path, bank, question_id)
    with grading_launcher([path.resolve().parent]) as launcher:
        return grade_checked(checked, launcher, device=device, seed=seed)
