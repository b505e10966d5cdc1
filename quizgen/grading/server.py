"""A user-level grading server, so that a regrade costs the tests and little else.

``quiz submit`` first asks the server; the first time, it starts one. The server holds what a cold
run pays for (torch, pytest, the launcher with its workers' walls) and grades each request exactly
as ``quiz submit`` would in its own process (``quizgen.grading.submit``). It listens only on a
socket in a private folder of the user's data dir (mode 0700, the socket 0600, and only peers of
the same user are answered), serves one request at a time, and exits after ``IDLE_S`` seconds
without one, or as soon as quizgen's code, questions or solutions change (a stale server would
grade with stale code). ``QUIZGEN_SERVER=0`` turns it off.

The server serves one user's own submissions, so it does not cover the folder a submission comes
from (Landlock keeps a worker's reads to the interpreter and libraries anyway); grading a class
(``quiz grade-batch``) never goes through it.

This module is imported by every ``quiz submit``: the client half uses the standard library only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

from quizgen.paths import bundled_root, user_home

IDLE_S = float(os.environ.get("QUIZGEN_SERVER_IDLE_S", "600"))
START_TIMEOUT_S = 120.0
REPLY_TIMEOUT_S = 900.0
MAX_REQUEST_BYTES = 1 << 20
_PACKAGE = Path(__file__).resolve().parents[1]


def enabled() -> bool:
    """On for a person at a terminal (``QUIZGEN_SERVER=1`` forces it on, ``=0`` off): scripts and CI
    runs grade in their own process and leave nothing running."""
    if not hasattr(socket, "AF_UNIX"):
        return False
    setting = os.environ.get("QUIZGEN_SERVER", "").lower()
    if setting in ("0", "off", "no", "false"):
        return False
    return setting in ("1", "on", "yes", "true") or (sys.stdin.isatty() and sys.stdout.isatty())


def run_dir() -> Path:
    return user_home() / "run"


def socket_path() -> Path:
    return run_dir() / "grading.sock"


def fingerprint() -> str:
    """Changes when quizgen's code, a question or a solution file changes."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(sys.version.encode())
    for root, pattern in ((_PACKAGE, "*.py"), (bundled_root() / "questions", "*.yaml"), (bundled_root() / "solutions", "*.py")):
        for path in sorted(root.rglob(pattern)):
            try:
                stat = path.stat()
            except OSError:
                continue
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


# -- client ----------------------------------------------------------------------------------------

def _send(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message).encode()
    sock.sendall(struct.pack("!I", len(data)) + data)


def _receive(sock: socket.socket, deadline: float, limit: int = 64 << 20) -> dict | None:
    chunks, header = [], b""
    while len(header) < 4:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        part = sock.recv(4 - len(header))
        if not part:
            return None
        header += part
    size = struct.unpack("!I", header)[0]
    if size > limit:
        return None
    got = 0
    while got < size:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        part = sock.recv(min(size - got, 1 << 20))
        if not part:
            return None
        chunks.append(part)
        got += len(part)
    return json.loads(b"".join(chunks))


def _connect() -> socket.socket | None:
    path = socket_path()
    if len(str(path)) > 100:  # AF_UNIX paths are limited to about 108 bytes
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        return sock
    except OSError:
        sock.close()
        return None


def _start() -> None:
    """Start a detached server (its own session, no terminal); it outlives this command."""
    subprocess.Popen([sys.executable, "-m", "quizgen.grading.server"], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)


def request(payload: dict) -> dict | None:
    """The server's reply to ``payload``, starting a server if none runs; None if none can answer
    (the caller then grades in its own process)."""
    if len(str(socket_path())) > 100:
        return None
    payload = payload | {"fingerprint": fingerprint()}
    for _attempt in range(2):
        sock = _connect()
        if sock is None:
            _start()
            deadline = time.monotonic() + START_TIMEOUT_S
            while sock is None and time.monotonic() < deadline:
                time.sleep(0.05)
                sock = _connect()
            if sock is None:
                return None
        with sock:
            try:
                _send(sock, payload)
                reply = _receive(sock, time.monotonic() + REPLY_TIMEOUT_S)
            except (OSError, ValueError):
                reply = None
        if reply is None:
            return None
        if not reply.get("stale"):
            return reply
        time.sleep(0.2)  # the stale server is leaving; the next attempt starts a fresh one
    return None


# -- server ----------------------------------------------------------------------------------------

def _peer_is_us(conn: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):
        return True  # macOS: the socket's folder (0700) and file (0600) modes are the check
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", creds)
    return uid == os.getuid()


def _handle(request: dict) -> dict:
    from rich.console import Console

    from quizgen.api import shared_launcher
    from quizgen.errors import QuizgenError
    from quizgen.grading.submit import submit_file

    os.chdir(request.get("cwd") or "/")  # the client's folder: its relative path and messages read the same
    path = Path(request["path"])
    out = io.StringIO()
    console = Console(file=out, width=int(request.get("width", 80)), force_terminal=bool(request.get("color")),
                      color_system="truecolor" if request.get("color") else None, highlight=False, soft_wrap=False)
    said: list[str] = []
    try:
        code = submit_file(path, request.get("question"), console, said.append,
                           launcher=shared_launcher(), seed=request.get("seed"),
                           as_json=bool(request.get("json")), verbose=bool(request.get("verbose")))
    except QuizgenError as exc:
        return {"stdout": "", "stderr": "\n".join(said + [f"Error: {exc}"]) + "\n", "exit_code": 2}
    return {"stdout": out.getvalue(), "stderr": "".join(f"{line}\n" for line in said), "exit_code": code}


def _not_dumpable() -> None:
    """No process of the same user (a degraded-mode worker) may read this one's memory through /proc."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0


def serve() -> None:
    """The server's main loop (``python -m quizgen.grading.server``)."""
    import fcntl

    folder = run_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    lock = open(folder / "server.lock", "a")  # noqa: SIM115 - held (locked) for the server's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server is starting or running
    path = socket_path()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_umask)
    listener.listen(8)
    mine = fingerprint()
    _not_dumpable()
    try:
        from quizgen.grading import runner

        runner._preload_for_children()  # torch, pytest's plugins, the grading helpers
        from quizgen.api import shared_launcher

        shared_launcher().isolation  # noqa: B018 - the launcher imports torch while nobody waits
        last = time.monotonic()
        while time.monotonic() - last < IDLE_S:
            ready, _, _ = select.select([listener], [], [], max(0.1, IDLE_S - (time.monotonic() - last)))
            if not ready:
                continue
            conn, _ = listener.accept()
            with conn:
                if not _peer_is_us(conn):
                    continue
                try:
                    message = _receive(conn, time.monotonic() + 10, limit=MAX_REQUEST_BYTES)
                except (OSError, ValueError):
                    continue
                if not isinstance(message, dict):
                    continue
                if message.get("fingerprint") != mine:
                    with contextlib.suppress(OSError):
                        _send(conn, {"stale": True})
                    return
                try:
                    reply = _handle(message)
                except Exception as exc:  # noqa: BLE001 - a grader bug: say so, keep serving
                    reply = {"stdout": "", "stderr": f"Error: the grading server failed: {exc}\n", "exit_code": 2}
                with contextlib.suppress(OSError):
                    _send(conn, reply)
            last = time.monotonic()
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        listener.close()


if __name__ == "__main__":
    serve()
