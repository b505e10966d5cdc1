"""Audit and import hooks in the worker: a deterrent with clear messages, not a wall.

CPython's hooks live in the interpreter the submission runs in, so a determined submission can
reach around them (frames, gc, closures). They stay because they turn honest mistakes into plain
messages ("the grading sandbox does not allow socket.connect") before the kernel's walls
(``walls.py``) would answer with a bare EPERM; they decide nothing about a grade.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_BLOCKED_EVENTS = (
    "socket.", "subprocess.Popen", "os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn",
    "os.spawn", "os.kill", "os.killpg", "signal.pthread_kill", "ctypes.", "pty.spawn", "os.startfile",
    "sqlite3.connect", "os.setsid", "os.chroot", "os.symlink", "os.link", "_thread.start_new_thread",
    "sys._current_frames", "sys.setprofile", "sys.settrace",
)
_PATH_EVENTS = {"os.remove": 1, "os.rename": 2, "os.rmdir": 1, "os.mkdir": 1, "os.truncate": 1, "os.chmod": 1,
                "os.chown": 1, "os.utime": 1, "shutil.rmtree": 1, "shutil.move": 2, "shutil.copyfile": 2,
                "os.mkfifo": 1, "os.mknod": 1, "os.setxattr": 1, "os.removexattr": 1}


def install(private_dir: Path, hidden: list[Path]) -> None:
    """Refuse processes, sockets, signals, ctypes and threads; writing outside ``private_dir``;
    reading or importing from ``hidden`` folders."""
    private = str(private_dir.resolve()) + os.sep
    hidden_prefixes = tuple(str(p.resolve()) + os.sep for p in hidden)

    def outside_private(path) -> bool:
        return not isinstance(path, int) and not (os.path.realpath(os.fsdecode(path)) + os.sep).startswith(private)

    def is_hidden(path) -> bool:
        return bool(hidden_prefixes) and (os.path.realpath(os.fsdecode(path)) + os.sep).startswith(hidden_prefixes)

    def hook(event: str, args: tuple) -> None:
        if event.startswith(_BLOCKED_EVENTS):
            raise PermissionError(f"the grading sandbox does not allow {event}")
        if event in _PATH_EVENTS:
            if any(p is not None and outside_private(p) for p in args[: _PATH_EVENTS[event]]):
                raise PermissionError(f"the grading sandbox allows changing files only in its own folder ({event})")
        elif event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            mode = args[1] if len(args) > 1 else "r"
            flags = args[2] if len(args) > 2 else 0
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if is_hidden(args[0]):
                raise PermissionError(f"the grading sandbox hides {os.fsdecode(args[0])}")
            if writing and outside_private(args[0]):
                raise PermissionError(f"the grading sandbox allows writing only in its own folder, not {os.fsdecode(args[0])}")

    sys.addaudithook(hook)

    class HiddenFinder:
        """Refuses imports whose source lies in a hidden folder."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            if name == "solutions" or name.startswith("solutions."):
                raise ImportError(f"the grading sandbox does not allow importing {name}")
            for finder in sys.meta_path:
                if finder is HiddenFinder or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    if spec.origin and is_hidden(spec.origin):
                        raise ImportError(f"the grading sandbox does not allow importing {name}")
                    return
            return

    sys.meta_path.insert(0, HiddenFinder)
