"""The walls around a worker, each built by the kernel, not by Python, and each reported by name.

In the launcher (once, while it is still single-threaded, before torch is imported):
  namespaces    new user, mount and network namespaces (no network at all)
  covers        empty read-only tmpfs over every hidden folder (the solutions, the user's data,
                the submissions' folders, a checkout's .git)
  read-only     the whole file system remounted read-only, recursively

In each worker, before the submission's code runs:
  private world its own pid namespace (pid 1: killing it ends everything in it), its own mount
                namespace with a fresh size-capped tmpfs as its folder (on /dev/shm, or /tmp) and
                empty ones over the other temporary folders, its own /proc, then a nested user
                namespace, which locks every mount above so none can be undone
  capabilities  the bounding set emptied, no capabilities left, no_new_privs, not dumpable
  limits        address space (CPU runs), CPU time, file size, open files, no core dumps
  Landlock      reads confined to the interpreter, the libraries and quizgen's own code; writes to
                the private folder; no TCP; no signals or abstract sockets outside the worker
  seccomp       no new processes or (CPU runs) threads, no exec, no sockets, no mounts or
                namespaces, no ptrace or other processes' memory, signals only to itself; no changes
                to a file's mode, owner, times or attributes; no System V or POSIX IPC, no memfd

Where the kernel refuses one (Docker's seccomp profile and AppArmor refuse namespaces; older
kernels lack Landlock; libseccomp may be missing), grading goes on in a degraded mode and the
report names the walls that are missing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import resource
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from quizgen.wire import Isolation, WorkerLimits

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_THREAD = 0x10000000, 0x20000000, 0x40000000, 0x00010000
NAMESPACE_FLAGS = (CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x1, 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SYS_MOUNT_SETATTR, SYS_LANDLOCK_CREATE, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT = 442, 444, 445, 446
SYS_CAPSET = 126
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2
MADV_HUGEPAGE, MADV_COLLAPSE, HUGE_PAGE = 14, 25, 2 << 20


class WallError(OSError):
    """A wall could not be built; the caller decides whether grading may go on without it."""


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    return libc


_LIBC = _libc() if sys.platform.startswith("linux") else None


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise WallError(err, f"{what}: {os.strerror(err)}")
    return result


def _unshare(flags: int, what: str) -> None:
    _check(_LIBC.unshare(flags), f"unshare {what}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_LIBC.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def _map_own_ids(uid: int, gid: int) -> None:
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def set_parent_death_signal() -> None:
    """Die with the parent, so nothing outlives the grader (Linux only)."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def collapse_into_huge_pages() -> int:
    """Fold this process's writable anonymous memory (heap and anonymous maps) into transparent huge
    pages (madvise MADV_HUGEPAGE, then MADV_COLLAPSE, Linux 6.1+). Returns the bytes folded; a kernel
    without THP or MADV_COLLAPSE folds nothing, and that only costs speed."""
    if _LIBC is None:
        return 0
    folded = 0
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return 0
    for line in maps:
        fields = line.split()
        name = fields[5] if len(fields) > 5 else ""
        if name not in ("", "[heap]") or "w" not in fields[1]:
            continue
        low, high = (int(x, 16) for x in fields[0].split("-"))
        low, high = (low + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), high & ~(HUGE_PAGE - 1)
        if high - low < HUGE_PAGE:
            continue
        _LIBC.madvise(ctypes.c_void_p(low), ctypes.c_size_t(high - low), MADV_HUGEPAGE)
        if _LIBC.madvise(ctypes.c_void_p(low), ctypes.c_size_t(high - low), MADV_COLLAPSE) == 0:
            folded += high - low
    return folded


def set_not_dumpable() -> None:
    """Processes of the same user may no longer read this one's memory, fds or environment through
    /proc, nor ptrace it (they would need CAP_SYS_PTRACE). The trusted side calls this too."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


# -- in the launcher ------------------------------------------------------------------------------

def enter_namespaces(disabled_reason: str | None = None) -> Isolation:
    """Move the (single-threaded) launcher into new user, mount and network namespaces."""
    if disabled_reason:
        return Isolation(reason=disabled_reason)
    if _LIBC is None:
        return Isolation(reason=f"namespaces are Linux-only (this is {sys.platform})")
    uid, gid = os.getuid(), os.getgid()
    try:
        _unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET, "user, mount and network namespaces")
    except WallError as exc:
        return Isolation(reason=f"the kernel refused new namespaces ({exc.strerror})")
    try:
        _map_own_ids(uid, gid)
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
    except OSError as exc:
        return Isolation(reason=f"namespaces were created but are not usable ({exc})")
    return Isolation(mode="strong", walls=["user, mount, network and pid namespaces"])


def cover(paths: list[Path]) -> None:
    """An empty read-only tmpfs over each folder: what was there cannot be read or listed."""
    for path in paths:
        _mount("tmpfs", str(path), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=000")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def make_root_read_only() -> None:
    """Every mount, recursively, read-only and nosuid (mount_setattr, Linux 5.12+). Devices stay
    usable (/dev/null; the GPU on CUDA runs)."""
    attr = _MountAttr(attr_set=MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID)
    _check(_LIBC.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b"/", AT_RECURSIVE, ctypes.byref(attr), ctypes.sizeof(attr)),
           "mount_setattr /")


_SCRATCH_CANDIDATES = (Path("/dev/shm"), Path("/tmp"), Path("/var/tmp"), Path("/run"))


def scratch_places(needed: list[Path]) -> tuple[Path, list[Path]]:
    """Where a worker's private tmpfs goes, and the other temporary folders to cover with an empty one.
    A folder that holds something the worker needs (a checkout with its virtualenv under /tmp) is
    never mounted over: it stays read-only, and Landlock still confines what is read from it."""
    needed = [n.resolve() for n in needed]
    safe = [c for c in _SCRATCH_CANDIDATES
            if c.is_dir() and not any(n == c.resolve() or c.resolve() in n.parents for n in needed)]
    if not safe:
        raise WallError(errno.ENOENT, "no temporary folder can hold the workers' private tmpfs")
    return safe[0], [c for c in safe[1:] if c in (Path("/tmp"), Path("/dev/shm"))]


def launcher_scratch(scratch: Path) -> None:
    """A small private scratch folder for the launcher itself (libraries imported later, such as
    torch._dynamo, want a writable temporary folder); each worker mounts its own over it."""
    _mount("tmpfs", str(scratch), "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0700")
    os.environ["TMPDIR"] = str(scratch)


def hideable(paths: list[Path], needed: list[Path]) -> list[Path]:
    """The existing folders among ``paths`` that can be covered without covering what the worker
    needs (``needed``: Python, torch, quizgen's code), outermost first and without repeats."""
    needed = [p.resolve() for p in needed]
    out: list[Path] = []
    for path in sorted({p.resolve() for p in paths if p.is_dir()}, key=lambda p: len(p.parts)):
        if any(o == path or o in path.parents for o in out):
            continue
        if not any(n == path or path in n.parents for n in needed):
            out.append(path)
    return out


# -- Landlock: which files a worker may open ------------------------------------------------------

LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
LL_FILE_RIGHTS = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | (1 << 14) | (1 << 15)  # + truncate, ioctl_dev
LL_READ = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
_LL_FS_BITS_BY_ABI = {1: 13, 2: 14, 3: 15, 4: 15, 5: 16}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when there is none."""
    if _LIBC is None:
        return 0
    version = _LIBC.syscall(SYS_LANDLOCK_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(version), 0)


def readable_roots(hidden: list[Path]) -> list[Path]:
    """What a worker may read: the interpreter and its libraries, site-packages, the shared
    libraries, and quizgen's own package, each minus the hidden folders inside it."""
    package = Path(__file__).resolve().parents[1]  # quizgen/
    roots = {Path(sys.base_prefix), Path(sys.prefix), package, Path("/usr/lib"), Path("/lib"), Path("/lib64"),
             Path("/usr/lib64"), Path("/usr/local/lib"), Path("/etc/ld.so.cache"), Path("/sys/devices/system/cpu")}
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.is_dir() and not (path / "quizgen" / "__init__.py").is_file():
            roots.add(path)  # a folder holding quizgen itself (a checkout) is reached through ``package``
        elif path.is_dir() and path.name == "site-packages":
            roots.add(path)  # an installed wheel: quizgen/_bundled/solutions is carved out below
    return _minus(sorted(p for p in roots if p.exists()), [h.resolve() for h in hidden])


def _minus(roots: list[Path], hidden: list[Path]) -> list[Path]:
    """Split each root into the largest sub-trees that hold no hidden path (Landlock grants whole trees)."""
    out: list[Path] = []
    for root in roots:
        root = root.resolve()
        if any(h == root or root in h.parents for h in hidden):
            continue  # the root itself is hidden, or lies inside a hidden folder
        inner = [h for h in hidden if root in h.parents]
        if not inner:
            out.append(root)
            continue
        try:
            children = sorted(root.iterdir())
        except OSError:
            continue
        out += _minus(children, inner)
    return out


def confine_files(read_roots: list[Path], private: Path, abi: int) -> None:
    """Landlock: read only under ``read_roots``, write only under ``private``, no TCP, and (ABI 6+)
    no signals or abstract unix sockets outside this worker."""
    handled = (1 << _LL_FS_BITS_BY_ABI.get(abi, 16)) - 1
    attr = _RulesetAttr(handled_access_fs=handled, handled_access_net=3 if abi >= 4 else 0,
                        scoped=3 if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = _check(_LIBC.syscall(SYS_LANDLOCK_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)),
                     "landlock_create_ruleset")
    try:
        # Of /proc, only what libraries read about this process and the machine: not its mount table
        # (which names the covered folders), nor its memory, nor other processes.
        proc = [Path(f"/proc/self/{name}") for name in ("status", "stat", "statm", "maps")]
        proc += [Path("/proc/cpuinfo"), Path("/proc/meminfo"), Path("/proc/stat")]
        grants = [(p, LL_READ) for p in read_roots] + [(private, handled), (Path("/dev/null"), LL_READ_FILE | LL_WRITE_FILE),
                                                         (Path("/dev/urandom"), LL_READ_FILE)]
        grants += [(p, LL_READ_FILE) for p in proc]
        for path, rights in grants:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if not os.path.isdir(path):
                    rights &= LL_FILE_RIGHTS
                rule = _PathBeneath(allowed_access=rights & handled, parent_fd=fd)
                _check(_LIBC.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0), f"landlock rule {path}")
            finally:
                os.close(fd)
        _check(_LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(_LIBC.syscall(SYS_LANDLOCK_RESTRICT, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


# -- in each worker -------------------------------------------------------------------------------

def enter_pid_namespace() -> None:
    """The next child forked is pid 1 of a new pid namespace (strong mode only)."""
    _unshare(CLONE_NEWPID, "pid namespace")


def private_world(tmp_mb: int, scratch: Path, covered: list[Path]) -> Path:
    """A mount namespace of the worker's own: a fresh tmpfs at ``scratch`` (its only writable place;
    its size is the worker's whole disk), empty ones over the other temporary folders (``covered``),
    its own /proc and System V IPC (gone with it), then a nested user namespace that locks every mount."""
    uid, gid = os.getuid(), os.getgid()
    _unshare(CLONE_NEWNS | CLONE_NEWIPC, "mount and IPC namespaces")
    flags = MS_NOSUID | MS_NODEV
    _mount("tmpfs", str(scratch), "tmpfs", flags, f"size={tmp_mb}m,mode=0700")
    for path in covered:
        _mount("tmpfs", str(path), "tmpfs", flags | MS_NOEXEC | MS_RDONLY, "size=4k,mode=000")
    _mount("proc", "/proc", "proc", flags | MS_NOEXEC)
    _unshare(CLONE_NEWUSER, "nested user namespace")
    _map_own_ids(uid, gid)
    return scratch


_CAP_LAST = 63


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges() -> None:
    """No capabilities, now or ever (bounding set empty, no_new_privs), and not dumpable."""
    _LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    for cap in range(_CAP_LAST + 1):
        _LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails (EINVAL) past the kernel's last capability
    header = _CapHeader(version=0x20080522, pid=0)
    data = (_CapData * 2)()
    _check(_LIBC.syscall(SYS_CAPSET, ctypes.byref(header), ctypes.byref(data)), "capset")
    _check(_LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    set_not_dumpable()
    if Path("/proc/self/status").read_text().find("CapEff:\t0000000000000000") < 0:
        raise WallError(errno.EPERM, "capabilities are still held after capset")


def current_address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def apply_limits(limits: WorkerLimits, address_space_now: int) -> None:
    """Hard limits (soft = hard), so the submission cannot raise them again."""
    cpu = int(limits.total_seconds) + 5
    for name, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, limits.tmp_mb << 20),
                        (resource.RLIMIT_NOFILE, limits.open_files), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(name, (value, value))
    if limits.device == "cpu":  # RLIMIT_AS breaks the CUDA driver's reservations
        cap = address_space_now + (limits.memory_mb << 20)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


# -- seccomp --------------------------------------------------------------------------------------

_DENIED_SYSCALLS = (
    "fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "pidfd_getfd", "pidfd_open", "pidfd_send_signal", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "socket", "socketpair", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount",
    "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "bpf", "perf_event_open",
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key",
    "request_key", "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "iopl", "ioperm", "personality",
    "open_by_handle_at", "name_to_handle_at", "migrate_pages", "move_pages", "ioprio_set",
    # What Landlock does not govern: a file's mode, owner, times and extended attributes.
    "chmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "utime", "utimes", "utimensat",
    "futimesat", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    # System V and POSIX IPC outlive their creator; memfd pages escape the address-space limit.
    "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop",
    "semctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr", "memfd_create",
    "memfd_secret",
)


@dataclass
class SeccompLibrary:
    """pyseccomp, imported in the launcher (it loads libseccomp with ctypes, which the hooks refuse later)."""

    module: object | None = None
    error: str = ""

    @classmethod
    def load(cls) -> SeccompLibrary:
        try:
            import pyseccomp
        except (ImportError, RuntimeError, OSError) as exc:
            return cls(None, f"libseccomp is not available ({exc})")
        return cls(pyseccomp)


def install_seccomp(library: SeccompLibrary, allow_threads: bool) -> None:
    """Refuse (EPERM) what a kernel function never needs; the filter holds for the worker's life."""
    sc = library.module
    own = os.getpid()
    deny = sc.ERRNO(errno.EPERM)
    rules = sc.SyscallFilter(sc.ALLOW)
    for name in _DENIED_SYSCALLS:
        try:
            rules.add_rule(deny, name)
        except (OSError, ValueError):
            pass  # not a syscall on this architecture
    rules.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # its flags live in memory seccomp cannot read; glibc falls back to clone
    if allow_threads:
        rules.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))  # a process, not a thread
        for flag in NAMESPACE_FLAGS:
            rules.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    else:
        rules.add_rule(deny, "clone")
    for name in ("kill", "tkill"):
        rules.add_rule(deny, name, sc.Arg(0, sc.NE, own))
    rules.add_rule(deny, "tgkill", sc.Arg(0, sc.NE, own))
    for name, arg in (("prlimit64", 0), ("sched_setaffinity", 0), ("sched_setscheduler", 0), ("sched_setparam", 0),
                      ("setpriority", 1)):
        rules.add_rule(deny, name, sc.Arg(arg, sc.NE, 0))  # only on itself (pid 0)
    rules.load()


@dataclass
class WorkerPlan:
    """What the launcher decided once, for every worker it forks."""

    isolation: Isolation
    read_roots: list[Path] = field(default_factory=list)
    landlock: int = 0
    seccomp: SeccompLibrary = field(default_factory=SeccompLibrary)
    hidden: list[Path] = field(default_factory=list)  # kept for the hooks in degraded mode only
    scratch: Path = Path("/tmp")  # strong mode: where each worker's private tmpfs goes
    covered_tmp: list[Path] = field(default_factory=list)  # strong mode: temporary folders covered empty
