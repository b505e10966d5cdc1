"""The worker launcher: a forkserver that has imported torch once, so a fresh worker costs a fork.

Started by the grader as ``python -I -c`` with one end of a SOCK_SEQPACKET pair. Before importing
torch (while single-threaded) it enters new namespaces where Linux allows them; it then hides the
solutions and the user's data behind empty mounts. For each request (a JSON message carrying one
end of a fresh socket pair) it forks a supervisor, which forks the worker (the first process of a
new pid namespace in strong mode), reports the worker's pid on that socket, waits for it, and
removes its private folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path

from quizgen.grading import sandbox

# Which environment variables the worker keeps; everything else (tokens, keys, QUIZGEN_HOME) is dropped.
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")


def _clean_environment(private_dir: Path) -> None:
    kept = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    os.environ.clear()
    os.environ.update(kept)
    os.environ.update(HOME=str(private_dir), TMPDIR=str(private_dir), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def _become_worker(channel: socket.socket, private_dir: Path, request: dict, hidden: list[Path]) -> None:
    from quizgen.grading import worker

    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.chdir(private_dir)
    _clean_environment(private_dir)
    device = request.get("device", "cpu")
    if device == "cuda":
        import torch

        torch.cuda.init()  # before the hooks: the driver loads libraries with ctypes-like calls
    limits = request["limits"]
    sandbox.apply_limits(sandbox.Limits(
        cpu_seconds=int(limits["cpu_seconds"]),
        memory_bytes=None if device == "cuda" else _current_vm_bytes() + int(limits["memory_mb"]) * 2**20,
    ))
    sandbox.install_hooks(private_dir, hidden)
    worker.main_in_child(channel, private_dir, device)


def _current_vm_bytes() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _supervise(channel: socket.socket, request: dict, isolation: sandbox.Isolation, hidden: list[Path]) -> None:
    """Runs in the forked supervisor: fork the worker, report its pid, wait, clean up. Never returns."""
    sandbox.set_parent_death_signal()
    private_dir = Path(tempfile.mkdtemp(prefix="worker-", dir=request["workdir"]))
    in_pid_namespace = sandbox.enter_pid_namespace(isolation)
    go_read, go_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(go_write)
        os.read(go_read, 1)  # wait until the grader knows our pid
        os.close(go_read)
        sandbox.set_parent_death_signal()
        if not in_pid_namespace:
            os.setpgid(0, 0)
        try:
            _become_worker(channel, private_dir, request, hidden)
        finally:
            os._exit(4)
    os.close(go_read)
    try:
        from quizgen.grading.protocol import send_frame

        send_frame(channel, {"status": "hello", "pid": pid, "pid_namespace": in_pid_namespace})
    except OSError:
        os.kill(pid, signal.SIGKILL)
    os.write(go_write, b"g")
    os.close(go_write)
    channel.close()
    os.waitpid(pid, 0)
    shutil.rmtree(private_dir, ignore_errors=True)
    os._exit(0)


def _warm_up() -> None:
    """Pay once, before forking, for what every worker's first call would pay (about 2 s of lazy imports)."""
    import torch

    from quizgen.grading.protocol import decode_value, encode_value
    from quizgen.grading.trace import CallTracer

    with CallTracer():
        x = torch.arange(6.0).reshape(2, 3)
        (x @ x.T).softmax(-1).sum().item()
    decode_value(encode_value({"args": [x], "kwargs": {}}))


def main(control_fd: int, config: dict) -> None:
    sandbox.set_parent_death_signal()
    control = socket.socket(fileno=control_fd)
    isolation = sandbox.enter_namespaces(config.get("disable_namespaces"))
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    import torch

    torch.set_num_threads(1)
    from quizgen.grading import harnesses, worker  # noqa: F401 - imported before forking

    harnesses.preload()
    _warm_up()
    workdir = Path(tempfile.mkdtemp(prefix="quizgen-workers-"))
    hidden = sandbox.hideable([Path(p) for p in config.get("hide", [])], keep=[workdir])
    sandbox.hide_paths(isolation, hidden)
    control.send(json.dumps({"status": "ready", "isolation": isolation.__dict__}).encode())
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, 1)
        except OSError:
            break
        if not message:
            break
        request = json.loads(message) | {"workdir": str(workdir)}
        channel = socket.socket(fileno=fds[0])
        if os.fork() == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _supervise(channel, request, isolation, hidden)
            finally:
                os._exit(5)
        channel.close()
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), json.loads(sys.argv[2]))
