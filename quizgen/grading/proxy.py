"""The trusted side of the worker: starts the launcher, spawns workers, and proxies calls to them.

``Submission`` is what hidden suites receive as their ``submission`` fixture: ``submission.f(x)``
sends x to the worker, runs f there under the tracer, and returns plain tensors. A timeout kills the
worker (and with it, in strong mode, its whole pid namespace); the next call gets a fresh one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from quizgen.grading.protocol import ProtocolError, decode_value, encode_value, recv_frame, send_frame

_BOOT = "import sys; sys.path.insert(0, sys.argv[3]); from quizgen.grading.launcher import main; main(int(sys.argv[1]), __import__('json').loads(sys.argv[2]))"
LAUNCH_TIMEOUT_S = 120.0


class SubmissionFailure(Exception):
    """The submission did not return a value; ``status`` says how (error, timeout, out-of-memory)."""

    status = "error"


class SubmissionRaised(SubmissionFailure):
    def __init__(self, function: str, type_name: str, message: str, traceback: str = ""):
        self.function, self.type_name, self.message, self.traceback = function, type_name, message, traceback
        super().__init__(f"{function}() raised {type_name}: {message}" + (f"\n{traceback}" if traceback else ""))


class SubmissionTimeout(SubmissionFailure):
    status = "timeout"


class SubmissionOutOfMemory(SubmissionFailure):
    status = "out-of-memory"


class SubmissionCrashed(SubmissionFailure):
    status = "error"


class SubmissionLoadError(SubmissionFailure):
    """The file could not even be imported: the whole submission is not gradable."""


class ContractViolation(AssertionError):
    """A value came back but breaks a rule every task shares (inputs modified, wrong device, bad type)."""


@dataclass
class WorkerLimits:
    call_seconds: float = 20.0
    total_seconds: float = 120.0
    memory_mb: int = 4096
    device: str = "cpu"


def _clean_env() -> dict:
    """The launcher's environment: what workers keep, plus the switches that only the launcher reads."""
    from quizgen.grading.launcher import KEPT_ENV

    keep = (*KEPT_ENV, "QUIZGEN_NO_NAMESPACES", "QUIZGEN_DEBUG")
    return {k: os.environ[k] for k in keep if k in os.environ} | {"OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


class Launcher:
    """One forkserver per grading session (a `quiz submit`, a validate or a batch run)."""

    def __init__(self, hide: list[Path], disable_namespaces: str | None = None):
        if disable_namespaces is None and os.environ.get("QUIZGEN_NO_NAMESPACES"):
            disable_namespaces = "namespaces disabled by QUIZGEN_NO_NAMESPACES"
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        package_parent = str(Path(__file__).resolve().parents[2])
        config = {"hide": [str(p) for p in hide], "disable_namespaces": disable_namespaces}
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, str(theirs.fileno()), json.dumps(config), package_parent],
            pass_fds=[theirs.fileno()], env=_clean_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=None if os.environ.get("QUIZGEN_DEBUG") else subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self.control = ours
        self._ready: dict | None = None

    @property
    def isolation(self) -> dict:
        """Waits for the launcher to be ready (it imports torch) and says which walls it built."""
        if self._ready is None:
            self.control.settimeout(LAUNCH_TIMEOUT_S)
            try:
                message = self.control.recv(1 << 16)
            except (socket.timeout, OSError) as exc:
                raise RuntimeError(f"the grading worker launcher did not start: {exc}") from None
            if not message:
                raise RuntimeError("the grading worker launcher exited while starting (set QUIZGEN_DEBUG=1 to see why)")
            self._ready = json.loads(message)
            self.control.settimeout(None)
        return self._ready["isolation"]

    def spawn(self, device: str, limits: WorkerLimits) -> tuple[socket.socket, int]:
        self.isolation  # noqa: B018 - wait for readiness
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request = {"device": device, "limits": {"cpu_seconds": limits.total_seconds + 5, "memory_mb": limits.memory_mb}}
        socket.send_fds(self.control, [json.dumps(request).encode()], [theirs.fileno()])
        theirs.close()
        ours.settimeout(30)
        header, _ = recv_frame(ours)
        return ours, int(header["pid"])

    def close(self) -> None:
        try:
            self.control.close()
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()


def kill_worker(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class CallInfo:
    function: str = ""
    seconds: float = 0.0
    trace: dict = field(default_factory=dict)
    echo: str = ""


class Submission:
    """A submission loaded in a sandboxed worker; attribute access gives its required functions."""

    def __init__(self, launcher: Launcher, source: str, functions: list[str], limits: WorkerLimits,
                 display_name: str = "submission.py", deadline: float | None = None):
        self._launcher, self._source, self._functions, self.limits = launcher, source, list(functions), limits
        self._display_name = display_name
        self._channel: socket.socket | None = None
        self._pid: int | None = None
        # Wall time (time.monotonic), spawns included: given by the grader, else set at the first call.
        self._deadline: float | None = deadline
        self.last = CallInfo()
        self.device = limits.device

    # -- worker lifetime -------------------------------------------------------------------------
    def _remaining(self) -> float:
        if self._deadline is None:
            self._deadline = time.monotonic() + self.limits.total_seconds
        return self._deadline - time.monotonic()

    def load(self) -> str:
        """Start a worker and import the submission; returns what the import printed."""
        self._channel, self._pid = self._launcher.spawn(self.device, self.limits)
        send_frame(self._channel, {"op": "load"}, self._source.encode("utf-8"))
        header = self._receive("loading the file", min(self.limits.call_seconds, max(self._remaining(), 0.5)))[0]
        if header.get("status") != "ready":
            self.close()
            where = f"\n{self._user_paths(header['traceback'])}" if header.get("traceback") else ""
            raise SubmissionLoadError(f"importing the file raised {header.get('type')}: {header.get('message')}{where}")
        return header.get("echo", "")

    def close(self) -> None:
        if self._pid is not None:
            kill_worker(self._pid)
        if self._channel is not None:
            self._channel.close()
        self._channel = self._pid = None

    def _receive(self, what: str, limit: float) -> tuple[dict, bytes]:
        assert self._channel is not None
        self._channel.settimeout(max(limit, 0.05))
        try:
            return recv_frame(self._channel)
        except socket.timeout:
            self.close()
            raise SubmissionTimeout(f"{what} did not finish within {limit:.1f} s; the worker was stopped "
                                    "(an infinite loop, or far too slow an algorithm?)") from None
        except (ProtocolError, OSError) as exc:
            self.close()
            raise SubmissionCrashed(f"the worker process died while {what} ({exc}); a crash, os._exit() "
                                    "or a memory limit kill") from None

    def _user_paths(self, traceback: str) -> str:
        """Tracebacks name the worker's private copy; show the user's own file name instead."""
        return re.sub(r'File "[^"]*/submission\.py"', f'File "{self._display_name}"', traceback)

    # -- calls -----------------------------------------------------------------------------------
    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self._functions:
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def call(self, function: str, *args, **kwargs):
        return self._request(function, None, args, kwargs, {})

    def harness(self, name: str, function: str, *args, params: dict | None = None, **kwargs):
        """Run ``function`` inside a worker-side scenario (see quizgen.grading.harnesses)."""
        return self._request(function, name, args, kwargs, params or {})

    def _request(self, function: str, harness: str | None, args: tuple, kwargs: dict, params: dict):
        import torch
        from torch.utils._pytree import tree_leaves

        if self._remaining() <= 0:
            raise SubmissionTimeout(f"the submission used up its {self.limits.total_seconds:.0f} s time budget; "
                                    f"{function}() was not run")
        if self._channel is None:
            self.load()
        payload = encode_value({"args": list(args), "kwargs": dict(kwargs), "harness_params": params})
        try:
            send_frame(self._channel, {"op": "call", "function": function, "harness": harness}, payload)
        except OSError as exc:
            self.close()
            raise SubmissionCrashed(f"the worker process is gone ({exc})") from None
        limit = min(self.limits.call_seconds, self._remaining())
        header, blob = self._receive(f"{function}()", limit)
        status = header.get("status")
        self.last = CallInfo(function, header.get("seconds", 0.0), header.get("trace", {}), header.get("echo", ""))
        if status == "raised":
            raise SubmissionRaised(function, str(header.get("type")), str(header.get("message")),
                                   self._user_paths(str(header.get("traceback", ""))))
        if status == "oom":
            self.close()
            raise SubmissionOutOfMemory(f"{function}() ran out of memory (limit {self.limits.memory_mb} MiB)")
        if status == "bad_return":
            raise ContractViolation(str(header.get("message")))
        if status != "ok":
            raise SubmissionCrashed(f"the worker answered {function}() with an unknown status")
        try:
            value = decode_value(blob)
        except ProtocolError as exc:
            raise ContractViolation(f"{function}() returned something that is not a plain value: {exc}") from None
        if header.get("mutated"):
            raise ContractViolation(f"{function}() modified its input ({', '.join(header['mutated'])}); "
                                    "functions must not change their arguments: work on a copy")
        devices = set(header.get("devices") or [])
        takes_tensors = any(isinstance(v, torch.Tensor) for v in tree_leaves((args, kwargs)))
        if takes_tensors and devices - {self.device}:  # without tensor inputs (a mask of size n) any device will do
            raise ContractViolation(f"{function}() returned a tensor on {', '.join(sorted(devices))}, "
                                    f"but its inputs were on {self.device}")
        return value
