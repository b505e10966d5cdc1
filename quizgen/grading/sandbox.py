"""The worker's walls: Linux namespaces where the kernel allows them, rlimits, and audit/import hooks.

Namespaces must be created while the process is single-threaded, so ``enter_namespaces`` runs in the
launcher before torch is imported. Where they are refused (Docker's seccomp profile, AppArmor,
macOS), grading goes on in a degraded mode that says why. The hooks are a second wall only:
CPython's audit and import hooks are no security boundary, which is why the worker never holds
expected values or hidden tests.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_REC, MS_PRIVATE, MS_BIND, MS_RDONLY, MS_REMOUNT = 0x4000, 0x40000, 0x1000, 0x1, 0x20
PR_SET_PDEATHSIG = 1


@dataclass
class Isolation:
    """Which walls stand around the worker; reported with every grade."""

    mode: str = "degraded"  # "strong" or "degraded"
    reason: str = ""
    namespaces: list[str] = field(default_factory=list)
    hidden_paths: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for reports: which walls stood, or why the strong ones did not."""
        if self.mode == "strong":
            return f"strong ({', '.join(self.namespaces)} namespaces, {len(self.hidden_paths)} paths hidden)"
        return f"degraded ({self.reason or 'unknown reason'})"


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _unshare(flags: int) -> None:
    if hasattr(os, "unshare"):  # Python 3.12+
        os.unshare(flags)
        return
    if _libc().unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    libc = _libc()
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    rc = libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                    data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def set_parent_death_signal(sig: int = signal.SIGKILL) -> None:
    """Die with the parent, so no worker outlives the grader (Linux only; a no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        _libc().prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


def enter_namespaces(disabled_reason: str | None = None) -> Isolation:
    """Move this (single-threaded) process into new user, network and mount namespaces."""
    if disabled_reason:
        return Isolation(reason=disabled_reason)
    if not sys.platform.startswith("linux"):
        return Isolation(reason=f"namespaces are Linux-only (this is {sys.platform})")
    uid, gid = os.getuid(), os.getgid()
    try:
        _unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS)
    except OSError as exc:
        return Isolation(reason=f"the kernel refused new namespaces: {exc.strerror}")
    try:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
    except OSError as exc:
        return Isolation(reason=f"namespaces created but not usable: {exc}")
    return Isolation(mode="strong", namespaces=["user", "network", "mount"])


def hideable(paths: list[Path], keep: list[Path]) -> list[Path]:
    """The folders that can be hidden without hiding Python, torch, quizgen or ``keep`` themselves."""
    needed = [Path(sys.prefix).resolve(), Path(__file__).resolve().parents[1], *(k.resolve() for k in keep)]
    needed += [Path(p).resolve() for p in sys.path if p and Path(p).is_dir()]
    out: list[Path] = []
    for path in sorted({p.resolve() for p in paths}, key=lambda p: len(p.parts)):
        if any(o == path or o in path.parents for o in out):
            continue  # already hidden with a folder above it
        if path.is_dir() and not any(n == path or path in n.parents for n in needed):
            out.append(path)
    return out


def hide_paths(isolation: Isolation, paths: list[Path]) -> None:
    """Cover each folder with an empty read-only tmpfs (strong mode only)."""
    if isolation.mode != "strong":
        return
    for path in paths:
        try:
            _mount("tmpfs", str(path), "tmpfs", MS_RDONLY, "size=4k,mode=000")
            isolation.hidden_paths.append(str(path))
        except OSError as exc:
            isolation.mode, isolation.reason = "degraded", f"could not hide {path}: {exc}"
            return


def enter_pid_namespace(isolation: Isolation) -> bool:
    """A new pid namespace for the next child: killing its first process then kills every process in it."""
    if isolation.mode != "strong":
        return False
    try:
        _unshare(CLONE_NEWPID)
    except OSError:
        return False
    return True


@dataclass
class Limits:
    cpu_seconds: int
    memory_bytes: int | None  # address-space cap; None on CUDA runs, where RLIMIT_AS breaks the driver
    file_bytes: int = 64 << 20
    open_files: int = 256


def apply_limits(limits: Limits) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.memory_bytes is not None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))


_BLOCKED_EVENTS = (
    "socket.", "subprocess.Popen", "os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn",
    "os.spawn", "os.kill", "os.killpg", "signal.pthread_kill", "ctypes.", "pty.spawn", "os.startfile",
    "sqlite3.connect", "os.setsid", "os.chroot", "os.symlink", "os.link",
)


# Events that change the file system, with how many leading arguments are paths.
_CHANGES_PATHS = {"os.remove": 1, "os.rename": 2, "os.rmdir": 1, "os.mkdir": 1, "os.truncate": 1, "os.chmod": 1,
                  "os.chown": 1, "os.utime": 1, "os.chflags": 1, "os.lchflags": 1, "shutil.rmtree": 1,
                  "shutil.move": 2, "shutil.copyfile": 2, "os.mkfifo": 1, "os.mknod": 1, "os.setxattr": 1,
                  "os.removexattr": 1}


def install_hooks(private_dir: Path, hidden: list[Path]) -> None:
    """Refuse, at the interpreter level, what the submission never needs: processes, sockets, signals
    and dynamic libraries, reading hidden folders, and writing outside its private folder."""
    private = str(private_dir.resolve())
    hidden_prefixes = tuple(str(p.resolve()) + os.sep for p in hidden)

    def is_hidden(path: str) -> bool:
        resolved = os.path.realpath(path) + os.sep
        return resolved.startswith(hidden_prefixes)

    def inside_private(path) -> bool:
        if isinstance(path, int):
            return True  # an fd the worker already holds: opened through the checks below
        return os.path.realpath(os.fsdecode(path)).startswith(private + os.sep)

    def hook(event: str, args: tuple) -> None:
        if event.startswith(_BLOCKED_EVENTS):
            raise PermissionError(f"the grading sandbox does not allow {event}")
        if event in _CHANGES_PATHS:
            for path in args[: _CHANGES_PATHS[event]]:
                if path is not None and not inside_private(path):
                    raise PermissionError(f"the grading sandbox allows changing files only in its own folder ({event})")
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            mode = args[1] if len(args) > 1 else "r"
            flags = args[2] if len(args) > 2 else 0
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if is_hidden(path):
                raise PermissionError(f"the grading sandbox hides {path}")
            if writing and not os.path.realpath(path).startswith(private + os.sep):
                raise PermissionError(f"the grading sandbox allows writing only in its own folder, not {path}")
        elif event in ("os.listdir", "os.scandir", "glob.glob") and args and args[0] is not None:
            if is_hidden(os.fsdecode(args[0]) if not isinstance(args[0], int) else "."):
                raise PermissionError("the grading sandbox hides that folder")

    sys.addaudithook(hook)

    class HiddenFinder:
        """Refuses imports whose source lies in a hidden folder (the solutions, the database)."""

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
                    return None  # let the normal machinery load it
            return None

    sys.meta_path.insert(0, HiddenFinder)
