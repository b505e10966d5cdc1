"""The worker launcher: a forkserver that imports torch once, so a fresh sandboxed worker costs a fork.

Started by the trusted side as ``python -I -c`` with one end of a SOCK_SEQPACKET pair as its only
argument; its configuration (which folders to hide) arrives on that socket, so no hidden path is
ever on a command line. Before importing torch, while single-threaded, it enters its namespaces;
then it covers the hidden folders and makes the whole file system read-only (``walls.py``).

Each request carries two file descriptors: the channel the worker will talk on, and a lifeline
whose other end the trusted grading process holds. The launcher forks a supervisor per request;
the supervisor forks the worker (pid 1 of a new pid namespace in strong mode), waits, and kills it
the moment the lifeline closes (the grading ended, or was killed) or its time is up.
"""

from __future__ import annotations

import gc
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

from quizgen.sandbox import harnesses, hooks, walls
from quizgen.wire import Isolation, WorkerLimits, send_frame

# Which environment variables a worker keeps; everything else (tokens, keys, QUIZGEN_HOME) is dropped.
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
KILL_GRACE_S = 10.0  # the supervisor's own bound beyond the grading's budget, should the grader vanish


def _clean_environment(private: Path) -> None:
    kept = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    os.environ.clear()
    os.environ.update(kept)
    os.environ.update(HOME=str(private), TMPDIR=str(private), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def _become_worker(channel: socket.socket, request: dict, plan: walls.WorkerPlan, private: Path | None) -> None:
    """Build the worker's walls, innermost last, then serve. Never returns."""
    from quizgen.sandbox import worker

    walls.set_parent_death_signal()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1) if os.environ.get("QUIZGEN_DEBUG") else (0, 1, 2):
        os.dup2(devnull, fd)
    keep = channel.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)
    limits = WorkerLimits.from_dict(request["limits"])
    try:
        if plan.isolation.mode == "strong":
            private = walls.private_world(limits.tmp_mb, plan.scratch, plan.covered_tmp)
        os.setsid()  # its own session: its own scheduling group (autogroup) and process group
        os.chdir(private)
        _clean_environment(private)
        if limits.device == "cuda":
            import torch

            torch.cuda.init()  # before the walls: the driver opens devices and starts threads
        worker.forbid_ops(list(request.get("forbid_ops", [])))
        address_space = walls.current_address_space()
        walls.drop_privileges()
        walls.apply_limits(limits, address_space)
        if plan.landlock and limits.device == "cpu":
            walls.confine_files(plan.read_roots, private, plan.landlock)
        if plan.seccomp.module is not None:
            walls.install_seccomp(plan.seccomp, allow_threads=limits.device == "cuda")
        hooks.install(private, plan.hidden)
        sys.dont_write_bytecode = True
    except OSError as exc:
        send_frame(channel, {"status": "sandbox_error", "message": f"the grading sandbox could not be built: {exc}"})
        os._exit(6)
    worker.serve(channel, limits.device)
    os._exit(0)


def _kill(pid: int, plan: walls.WorkerPlan) -> None:
    """In strong mode the worker is pid 1 of its namespace: killing it ends every process in it."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _watch(pid: int, lifeline: int, limits: WorkerLimits, plan: walls.WorkerPlan) -> None:
    """Wait for the worker; kill it when the lifeline closes or its whole budget is spent."""
    deadline = time.monotonic() + limits.total_seconds + KILL_GRACE_S
    poller = select.poll()
    poller.register(lifeline, select.POLLIN | select.POLLHUP | select.POLLERR)
    try:
        pidfd = os.pidfd_open(pid)
        poller.register(pidfd, select.POLLIN)
    except (AttributeError, OSError):
        pidfd = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        events = poller.poll(min(left, 0.25 if pidfd is None else left) * 1000)
        if pidfd is None and os.waitpid(pid, os.WNOHANG)[0]:
            return
        for fd, _ in events:
            if fd == pidfd:
                os.waitpid(pid, 0)
                return
            if fd == lifeline:  # EOF: the grading process closed it or died
                _kill(pid, plan)
                os.waitpid(pid, 0)
                return
    _kill(pid, plan)
    os.waitpid(pid, 0)


def _supervise(channel: socket.socket, lifeline: int, request: dict, plan: walls.WorkerPlan, workroot: Path) -> None:
    """Runs in the forked supervisor: fork the worker, watch it, clean up. Never returns."""
    walls.set_parent_death_signal()
    private = None
    try:
        if plan.isolation.mode == "strong":
            walls.enter_pid_namespace()
        else:
            private = Path(tempfile.mkdtemp(prefix="worker-", dir=workroot))
        pid = os.fork()
        if pid == 0:
            os.close(lifeline)
            try:
                _become_worker(channel, request, plan, private)
            except BaseException:  # noqa: BLE001 - a forked child must never return into the launcher's loop
                if os.environ.get("QUIZGEN_DEBUG"):
                    import traceback

                    traceback.print_exc()
            finally:
                os._exit(4)
        channel.close()
        _watch(pid, lifeline, WorkerLimits.from_dict(request["limits"]), plan)
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
        os._exit(0)


def _warm_up() -> None:
    """Pay once, before forking, for what every worker's first call would pay (lazy imports)."""
    import torch

    from quizgen.sandbox.tracer import CallTracer
    from quizgen.wire import decode_value, encode_value

    with CallTracer():
        x = torch.arange(6.0).reshape(2, 3)
        (x @ x.T).softmax(-1).sum().item()
    decode_value(encode_value({"args": [x], "kwargs": {}}))


def _preload(modules: list[str]) -> None:
    """Import what a task's first call would import in every worker (torch.utils.checkpoint reads
    torch._dynamo's config: 1.5 s a worker, paid here once). Asked for by the trusted side."""
    import importlib

    for name in modules:
        if name.split(".")[0] == "torch":
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a module that will not import here is imported by the worker, or not at all
                pass


def _ready_to_fork() -> None:
    """Make the two forks of every grading cheaper. A forked process copies its parent's page tables
    and tears them down at exit: ~35,000 entries for torch's 140 MB of heap, a fifth of `quiz validate`'s
    CPU on a 2-core VM (perf). Folded into 2 MiB huge pages, the same heap is ~70 entries (half of that
    fifth is gone). A frozen heap stays shared: a worker's garbage collections skip (and so do not
    copy) the objects torch made. It costs 0.5 s, once: only a launcher of many workers pays it (again,
    briefly, after each preload, for what that imported)."""
    gc.collect()
    gc.freeze()
    walls.collapse_into_huge_pages()


def _plan(isolation: Isolation, hide: list[Path], seccomp: walls.SeccompLibrary) -> walls.WorkerPlan:
    """Build the launcher's walls and decide those of every worker."""
    package = Path(__file__).resolve().parents[1]
    needed = [Path(sys.prefix), Path(sys.base_prefix), package, *(Path(p) for p in sys.path if p and Path(p).is_dir())]
    hidden = walls.hideable(hide, needed)
    scratch, covered_tmp = Path("/tmp"), []
    if isolation.mode == "strong":
        try:
            scratch, covered_tmp = walls.scratch_places(needed)
            walls.cover(hidden)
            walls.make_root_read_only()
            walls.launcher_scratch(scratch)
            isolation.walls += [f"{len(hidden)} folders covered", "read-only file system",
                                f"a private tmpfs per worker ({scratch})", "mounts locked"]
        except OSError as exc:
            isolation = Isolation(reason=f"could not cover the hidden folders ({exc})")
    if isolation.mode != "strong":
        isolation.missing.append("namespaces (a worker's pids, mounts, network and /tmp are shared, and its "
                                 "folder has no size cap)")
    isolation.walls.append("no capabilities")
    landlock = walls.landlock_abi()
    if landlock:
        isolation.walls.append(f"Landlock v{landlock} (reads confined, writes only to its own folder, no TCP)")
    else:
        isolation.missing.append("Landlock (file confinement)")
    if seccomp.module is not None:
        isolation.walls.append("seccomp (no processes, threads, exec, sockets, mounts or ptrace)")
    else:
        isolation.missing.append(f"seccomp: {seccomp.error}")
    isolation.walls.append("limits on memory, CPU time, files")
    roots = walls.readable_roots(hidden) if landlock else []
    return walls.WorkerPlan(isolation, roots, landlock, seccomp, hidden=hidden if isolation.mode != "strong" else [],
                            scratch=scratch, covered_tmp=covered_tmp)


def main(control_fd: int) -> None:
    walls.set_parent_death_signal()
    control = socket.socket(fileno=control_fd)
    config = json.loads(control.recv(1 << 20))
    isolation = walls.enter_namespaces(config.get("disable_namespaces"))  # before torch: single-threaded
    seccomp = walls.SeccompLibrary.load()  # before the file system turns read-only (it may run ldconfig)
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    import torch

    torch.set_num_threads(1)
    from quizgen.sandbox import worker  # noqa: F401 - imported before forking

    harnesses.preload()
    _warm_up()
    workroot = Path(config["workroot"])
    plan = _plan(isolation, [Path(p) for p in config.get("hide", [])], seccomp)
    many_workers = bool(config.get("many_workers"))
    del config  # in strong mode no worker needs to know where the hidden folders are
    walls.set_not_dumpable()
    if many_workers:
        _ready_to_fork()
    control.send(json.dumps({"status": "ready", "isolation": plan.isolation.to_dict()}).encode())
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, 2)
        except OSError:
            break
        if not message:
            break
        request = json.loads(message)
        if request.get("op") == "preload" and not fds:
            _preload(list(request.get("modules", [])))
            if many_workers:
                _ready_to_fork()
            continue
        if len(fds) != 2:
            break
        channel, lifeline = socket.socket(fileno=fds[0]), fds[1]
        if os.fork() == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _supervise(channel, lifeline, request, plan, workroot)
            finally:
                os._exit(5)
        channel.close()
        os.close(lifeline)


if __name__ == "__main__":
    main(int(sys.argv[1]))
