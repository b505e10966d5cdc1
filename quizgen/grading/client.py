"""The trusted side's handle on the sandbox: it starts the launcher and proxies calls to workers.

``Submission`` is what hidden suites receive as their ``submission`` fixture: ``submission.f(x)``
sends x to a worker, runs f there, and returns plain tensors checked by ``quizgen.wire``. Every
read has an absolute deadline. Each worker is tied to this process by a lifeline pipe: when the
grading ends or dies, the launcher's supervisor kills the worker (in strong mode, its whole pid
namespace). After a call times out, that function's remaining calls are not run, and the other
functions go on in a fresh worker.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from quizgen.grading.diagnose import Outcome, RecordedCall, replayable
from quizgen.grading.report import Status
from quizgen.wire import (
    DeadlineExceeded,
    Isolation,
    ProtocolError,
    WorkerLimits,
    decode_value,
    encode_value,
    recv_frame,
    send_frame,
)

_BOOT = ("import sys; sys.path.insert(0, sys.argv[2]); from quizgen.sandbox.launcher import main; "
         "main(int(sys.argv[1]))")
LAUNCH_TIMEOUT_S = 120.0
SPAWN_TIMEOUT_S = 30.0
_LAUNCHER_ENV = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "QUIZGEN_DEBUG")


class SubmissionFailure(Exception):
    """The submission did not return a value; ``status`` says how."""

    status = Status.ERROR


class SubmissionRaised(SubmissionFailure):
    def __init__(self, function: str, type_name: str, message: str, traceback: str = ""):
        self.function, self.type_name, self.message, self.traceback = function, type_name, message, traceback
        super().__init__(f"{function}() raised {type_name}: {message}" + (f"\n{traceback}" if traceback else ""))


class SubmissionTimeout(SubmissionFailure):
    status = Status.TIMEOUT


class SubmissionOutOfMemory(SubmissionFailure):
    status = Status.OUT_OF_MEMORY


class SubmissionCrashed(SubmissionFailure):
    status = Status.ERROR


class SubmissionLoadError(SubmissionFailure):
    """The file could not even be imported: the whole submission is not gradable."""


class SandboxError(Exception):
    """The sandbox itself failed (a grader problem, not the submission's)."""


class NotRun(SubmissionFailure):
    status = Status.NOT_RUN


class ContractViolation(AssertionError):
    """A value came back but breaks a rule every task shares (inputs modified, wrong device, bad type)."""


# -- the launcher ----------------------------------------------------------------------------------

def _remove_stale_workroots() -> None:
    """Worker folders left by a grader that was killed (SIGKILL leaves no time to clean up)."""
    for path in glob.glob(os.path.join(tempfile.gettempdir(), "quizgen-workers-*-*")):
        try:
            pid = int(Path(path).name.split("-")[2])
            os.kill(pid, 0)
        except (ValueError, IndexError):
            continue
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            continue


class Launcher:
    """One forkserver per grading session (a `quiz submit`, a validate or a batch run)."""

    def __init__(self, hide: list[Path], disable_namespaces: str | None = None, many_workers: bool = False):
        """``many_workers``: this launcher will fork hundreds of workers (a validate or a class), so it
        pays 0.5 s once to make each fork cheaper; a single submission would only wait for it."""
        if disable_namespaces is None and os.environ.get("QUIZGEN_NO_NAMESPACES"):
            disable_namespaces = "namespaces disabled by QUIZGEN_NO_NAMESPACES"
        _remove_stale_workroots()
        # Degraded mode's worker folders live here; this process removes it, whatever the launcher did.
        self.workroot = Path(tempfile.mkdtemp(prefix=f"quizgen-workers-{os.getpid()}-"))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        package_parent = str(Path(__file__).resolve().parents[2])
        env = {k: os.environ[k] for k in _LAUNCHER_ENV if k in os.environ}
        env |= {"OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        debug = bool(os.environ.get("QUIZGEN_DEBUG"))
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, str(theirs.fileno()), package_parent],
            pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=None if debug else subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self.control = ours
        config = {"hide": [str(p) for p in hide], "workroot": str(self.workroot),
                  "disable_namespaces": disable_namespaces, "many_workers": many_workers}
        self.control.send(json.dumps(config).encode())
        self._isolation: Isolation | None = None
        self._preloaded: set[str] = set()

    @property
    def isolation(self) -> Isolation:
        """Waits for the launcher to be ready (it imports torch) and says which walls it built."""
        if self._isolation is None:
            self.control.settimeout(LAUNCH_TIMEOUT_S)
            try:
                message = self.control.recv(1 << 16)
            except OSError as exc:
                raise SandboxError(f"the grading worker launcher did not start: {exc}") from None
            if not message:
                raise SandboxError("the grading worker launcher exited while starting "
                                   "(set QUIZGEN_DEBUG=1 to see why)")
            self._isolation = Isolation.from_dict(json.loads(message)["isolation"])
            self.control.settimeout(None)
        return self._isolation

    def preload(self, modules: list[str]) -> None:
        """Have the launcher import ``modules`` once, before it forks the next workers."""
        wanted = [m for m in modules if m not in self._preloaded]
        if wanted:
            self.control.send(json.dumps({"op": "preload", "modules": wanted}).encode())
            self._preloaded.update(wanted)

    def spawn(self, limits: WorkerLimits, forbid_ops: list[str]) -> WorkerHandle:
        """A fresh worker; it lives until its handle is closed (or this process dies). The launcher
        answers once it is ready; this may be called from a forked grading process, which must never
        read the control socket (the process that made the launcher reads its "ready")."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        lifeline_read, lifeline_write = os.pipe()
        request = {"limits": limits.to_dict(), "forbid_ops": forbid_ops}
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()], [theirs.fileno(), lifeline_read])
        except OSError as exc:
            ours.close()
            os.close(lifeline_write)
            raise SandboxError(f"the grading worker launcher is gone ({exc})") from None
        finally:
            theirs.close()
            os.close(lifeline_read)
        return WorkerHandle(ours, lifeline_write)

    def close(self) -> None:
        try:
            self.control.close()
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            shutil.rmtree(self.workroot, ignore_errors=True)


@dataclass
class WorkerHandle:
    channel: socket.socket
    lifeline: int

    def close(self) -> None:
        """Closing the lifeline tells the supervisor to kill the worker at once."""
        with contextlib.suppress(OSError):
            os.close(self.lifeline)
        self.channel.close()


# -- what a call reports ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Trace:
    """What the worker says a call dispatched. A teacher, not evidence: the worker could lie."""

    ops: dict[str, int] = field(default_factory=dict)
    foreign_ops: tuple[str, ...] = ()
    largest_numel: int = 0
    largest_shape: tuple[int, ...] = ()
    largest_op: str = ""
    threads_started: int = 0

    @classmethod
    def from_header(cls, data) -> Trace:
        try:
            return cls(ops={str(k): int(v) for k, v in dict(data.get("ops", {})).items()},
                       foreign_ops=tuple(str(o) for o in data.get("foreign_ops", [])),
                       largest_numel=int(data.get("largest_numel", 0)),
                       largest_shape=tuple(int(s) for s in data.get("largest_shape", [])),
                       largest_op=str(data.get("largest_op", "")), threads_started=int(data.get("threads_started", 0)))
        except (TypeError, ValueError, AttributeError):
            raise ContractViolation("the worker sent a malformed trace") from None


@dataclass(frozen=True)
class CallInfo:
    function: str = ""
    seconds: float = 0.0
    trace: Trace = field(default_factory=Trace)
    echo: str = ""


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text) -> str:
    """Text from the worker, safe to print: no terminal escape sequences or other control characters."""
    return _CONTROL.sub("\ufffd", str(text))


_OUT_OF_MEMORY = re.compile(r"can't allocate memory|not enough memory|out of memory|std::bad_alloc", re.IGNORECASE)


class Submission:
    """A submission in a sandboxed worker; attribute access gives its required functions."""

    def __init__(self, launcher: Launcher, source: str, functions: list[str], limits: WorkerLimits,
                 display_name: str = "submission.py", deadline: float | None = None,
                 forbid_ops: list[str] | None = None):
        self._launcher, self._source, self._functions, self.limits = launcher, source, list(functions), limits
        self._display_name = display_name
        self._forbid_ops = list(forbid_ops or [])
        self._worker: WorkerHandle | None = None
        self._deadline = deadline if deadline is not None else time.monotonic() + limits.total_seconds
        self.timed_out: set[str] = set()  # functions whose later calls are not run
        self.called: list[str] = []  # the functions called since the plugin last cleared it
        self.recorded: list[RecordedCall] = []  # plain calls and their answers, for naming a mistake
        self.values_returned = 0  # calls that returned a value (a test that saw none checked only errors)
        self.last = CallInfo()
        self.device = limits.device
        self._started = time.monotonic()
        # Whether calls are traced: only suites with rules about ops or memory read the trace.
        self.trace = bool(self._forbid_ops)

    # -- worker lifetime ----------------------------------------------------------------------
    def remaining(self) -> float:
        return self._deadline - time.monotonic()

    def load(self) -> str:
        """Start a worker and import the submission; returns what the import printed."""
        self._worker = self._launcher.spawn(self.limits, self._forbid_ops)
        try:
            send_frame(self._worker.channel, {"op": "load"}, self._source.encode("utf-8"))
        except OSError as exc:
            self.close()
            raise SandboxError(f"the grading worker could not be reached ({exc})") from None
        self._started = time.monotonic()
        deadline = self._started + min(self.limits.call_seconds, max(self.remaining(), 0.5)) + SPAWN_TIMEOUT_S
        header = self._receive("loading the file", min(deadline, self._deadline + 1.0))[0]
        if header.get("status") == "sandbox_error":
            self.close()
            raise SandboxError(str(header.get("message")))
        if header.get("status") != "ready":
            self.close()
            where = f"\n{self._user_paths(clean(header['traceback']))}" if header.get("traceback") else ""
            raise SubmissionLoadError(f"importing the file raised {clean(header.get('type'))}: "
                                      f"{clean(header.get('message'))}{where}")
        return str(header.get("echo", ""))

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
        self._worker = None

    @contextlib.contextmanager
    def memory_limit(self, memory_mb: int):
        """A twin in its own fresh worker whose address space may grow by ``memory_mb`` at most: an OS
        limit the worker cannot lift, whatever it does to its own interpreter."""
        twin = Submission(self._launcher, self._source, self._functions, replace(self.limits, memory_mb=memory_mb),
                          self._display_name, self._deadline, self._forbid_ops)
        twin.timed_out, twin.called, twin.recorded = self.timed_out, self.called, self.recorded
        twin.values_returned, twin.trace = self.values_returned, True  # a memory rule's call: the trace names the op
        try:
            yield twin
        finally:
            self.last, self.values_returned = twin.last, twin.values_returned
            twin.close()

    def _receive(self, what: str, deadline: float) -> tuple[dict, bytes]:
        assert self._worker is not None
        try:
            return recv_frame(self._worker.channel, deadline)
        except DeadlineExceeded:
            self.close()
            limit = max(0.0, deadline - self._started)
            raise SubmissionTimeout(f"{what} did not finish within {limit:.1f} s; the worker was stopped "
                                    "(an infinite loop, or far too slow an algorithm?)") from None
        except (ProtocolError, OSError) as exc:
            self.close()
            raise SubmissionCrashed(f"the worker process died while {what} ({exc}): a crash, os._exit(), "
                                    "or a memory limit") from None

    def _user_paths(self, traceback: str) -> str:
        """Tracebacks name the worker's copy; show the user's own file name instead."""
        return re.sub(r'File "submission\.py"', f'File "{self._display_name}"', traceback)

    # -- calls --------------------------------------------------------------------------------
    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self._functions:
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def call(self, function: str, *args, **kwargs):
        return self._request(function, None, args, kwargs, {})

    def harness(self, name: str, function: str, *args, params: dict | None = None, **kwargs):
        """Run ``function`` inside a worker-side scenario (see quizgen.sandbox.harnesses)."""
        return self._request(function, name, args, kwargs, params or {})

    def _request(self, function: str, harness: str | None, args: tuple, kwargs: dict, params: dict):
        import torch
        from torch.utils._pytree import tree_leaves

        self.called.append(function)
        if function in self.timed_out:
            raise NotRun(f"not run: {function}() timed out earlier")
        if self.remaining() <= 0:
            raise NotRun(f"not run: the submission used up its {self.limits.total_seconds:.0f} s time budget")
        if self._worker is None:
            self.load()
        payload = encode_value({"args": list(args), "kwargs": dict(kwargs), "harness_params": params})
        self._started = time.monotonic()
        try:
            send_frame(self._worker.channel, {"op": "call", "function": function, "harness": harness,
                                              "trace": self.trace}, payload)
        except OSError as exc:
            self.close()
            raise SubmissionCrashed(f"the worker process is gone ({exc})") from None
        try:
            header, blob = self._receive(f"{function}()", min(self._started + self.limits.call_seconds, self._deadline))
        except SubmissionTimeout:
            self.timed_out.add(function)
            raise
        status = header.get("status")
        self.last = CallInfo(function, float(header.get("seconds", 0.0) or 0.0), Trace.from_header(header.get("trace", {})),
                             clean(header.get("echo", "")))
        if status == "raised":
            message = clean(header.get("message"))
            if header.get("type") in ("RuntimeError", "MemoryError") and _OUT_OF_MEMORY.search(message):
                self.close()
                raise SubmissionOutOfMemory(f"{function}() ran out of memory (limit {self.limits.memory_mb} MiB "
                                            f"beyond its start): {message[:200]}")
            raised = clean(header.get("type"))[:100]
            self._record(function, harness, args, kwargs, Outcome(raised=raised))
            raise SubmissionRaised(function, raised, message, self._user_paths(clean(header.get("traceback", ""))))
        if status == "oom":
            self.close()
            raise SubmissionOutOfMemory(f"{function}() ran out of memory (limit {self.limits.memory_mb} MiB beyond its start)")
        if status == "bad_return":
            raise ContractViolation(clean(header.get("message")))
        if status != "ok":
            self.close()
            raise SubmissionCrashed(f"the worker answered {function}() with an unknown status")
        try:
            value = decode_value(blob)
        except ProtocolError as exc:
            self.close()
            raise ContractViolation(f"{function}() returned something that is not a plain value: {exc}") from None
        mutated = header.get("mutated") or []
        if mutated:
            raise ContractViolation(f"{function}() modified its input ({', '.join(map(str, mutated))}); "
                                    "functions must not change their arguments: work on a copy")
        devices = {str(d) for d in header.get("devices") or []}
        takes_tensors = any(isinstance(v, torch.Tensor) for v in tree_leaves((args, kwargs)))
        if takes_tensors and devices - {self.device}:  # without tensor inputs (a mask of size n) any device will do
            raise ContractViolation(f"{function}() returned a tensor on {', '.join(sorted(devices))}, "
                                    f"but its inputs were on {self.device}")
        self._record(function, harness, args, kwargs, Outcome(value=value))
        self.values_returned += 1
        return value

    def _record(self, function: str, harness: str | None, args: tuple, kwargs: dict, outcome: Outcome) -> None:
        if harness is None and replayable(args, kwargs):
            self.recorded.append(RecordedCall(function, tuple(args), dict(kwargs), outcome))
