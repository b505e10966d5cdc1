"""The malicious corpus (tests/malicious/): every attack is harmless, in the strong and the degraded mode.

Each file is graded past the static check (which alone refuses most of them), so that what is tested
is the kernel's walls and the trusted side's checks. For every attack: not a pass, back within its
time budget, the progress database byte-identical, nothing left behind, no worker left running, no
line of the hidden suite or reference and no planted secret in anything reported, and a classmate
graded beside it keeps full marks. The rule attacks on tasks 53 and 58 lose at least half the score.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import secrets
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from quizgen.bank import load_bank
from quizgen.errors import UnusableSubmission
from quizgen.grading.client import Launcher
from quizgen.grading.report import RULE_CAP
from quizgen.grading.runner import grade_checked, grade_many, hidden_paths, start_grading
from quizgen.grading.static import CheckedSource, check_source
from quizgen.paths import solutions_dir, user_home
from quizgen.store import open_store
from quizgen.wire import WorkerLimits

MALICIOUS = Path(__file__).parent / "malicious"
ATTACKS = sorted(p.name for p in MALICIOUS.glob("*.py"))
RULE_ATTACKS = [(58, p.name) for p in sorted((MALICIOUS / "flash_attention").glob("*.py"))] + \
               [(53, p.name) for p in sorted((MALICIOUS / "sparse_attention").glob("*.py"))]
RULE_FOLDERS = {58: "flash_attention", 53: "sparse_attention"}
# Rule attacks that only the static policy stops (they undo the worker-side kernels: best effort, said so
# in the README); the test proves the static check refuses them.
STATIC_ONLY = {"undo_forbidden_kernels.py"}
LIMITS = WorkerLimits(call_seconds=3.0, total_seconds=12.0, memory_mb=1024)
DELAYED = {"subprocess_escape.py", "fork_bomb.py", "ctypes_fork.py"}  # would act a few seconds later
STEALERS = {"read_reference.py", "read_reference_text.py", "import_solutions_package.py", "unmount_covers.py",
            "read_bank_copies.py"}
# Attacks aimed at whoever is graded beside them: a classmate is graded alongside, and must keep full marks.
NEIGHBOURLY = {"poison_classmates.py", "fill_disk.py", "many_threads.py", "signal_the_grader.py", "forge_results.py",
               "edit_hook_state.py", "leave_threads.py", "fork_bomb.py", "memory_bomb.py", "write_database.py"}
RETURN_SLACK_S = 5.0  # beyond the budget: the grading process's own deadline slack and pytest's start-up
SECRET = f"qz-secret-{secrets.token_hex(8)}"
SUITE_TEXT = "ROUTING_CASES = [(1, 4, 1)"  # a line of the hidden suite of task 52
REFERENCE_TEXT = "chosen = F.one_hot(indices, num_experts)"  # a line of its reference


@pytest.fixture(scope="module", params=["strong", "degraded"])
def launcher(request, tmp_path_factory):
    home = tmp_path_factory.mktemp("home-for-launcher")
    class_dir = tmp_path_factory.mktemp("class")
    disable = None if request.param == "strong" else "namespaces disabled for this test"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QUIZGEN_HOME", str(home))
        mp.setenv("QUIZGEN_PLANTED_SECRET", SECRET)  # in every ancestor's environment of the worker
        instance = Launcher(hide=hidden_paths([class_dir]), disable_namespaces=disable)
        isolation = instance.isolation  # waits for the launcher to import torch: not part of any grading
    if request.param == "strong" and isolation.mode != "strong":
        instance.close()
        pytest.skip(f"namespaces unavailable here: {isolation.reason}")
    instance.home, instance.class_dir = home, class_dir
    yield instance
    instance.close()


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    received = []
    stop = threading.Event()

    def accept():
        end = time.monotonic() + 60
        while time.monotonic() < end and not stop.is_set():
            try:
                conn, _ = server.accept()
                received.append(conn.recv(100))
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join()
    server.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _source(path: Path, launcher, marker: Path, port: int = 1) -> str:
    return (path.read_text()
            .replace("__REFERENCE_PATH__", str(solutions_dir() / "52_moe" / "reference.py"))
            .replace("__SOLUTIONS_DIR__", str(solutions_dir())).replace("__DB_PATH__", str(launcher.home / "progress.db"))
            .replace("__HOME__", str(launcher.home)).replace("__CLASS_DIR__", str(launcher.class_dir))
            .replace("__MARKER__", str(marker)).replace("__PORT__", str(port)))


def _leftovers(launcher) -> list[str]:
    places = ["/tmp", "/dev/shm", "/var/tmp", str(launcher.home), str(launcher.class_dir), os.getcwd()]
    found = [p for place in places for p in glob.glob(os.path.join(place, "**", "qz-attack*"), recursive=True)]
    found += [str(p) for p in launcher.workroot.iterdir()] if launcher.workroot.exists() else []
    return found


def _supervisors(launcher) -> list[int]:
    """The launcher's live children: one supervisor per worker still running."""
    children = []
    for task in glob.glob(f"/proc/{launcher.process.pid}/task/*/children"):
        children += [int(pid) for pid in Path(task).read_text().split()]
    return children


def _wait_until_no_workers(launcher, timeout: float = 3.0) -> list[int]:
    end = time.monotonic() + timeout
    while _supervisors(launcher) and time.monotonic() < end:
        time.sleep(0.05)
    return _supervisors(launcher)


def _honest(question_id: int = 52) -> CheckedSource:
    question = load_bank().get(question_id)
    source = (solutions_dir() / question.folder_name / "reference.py").read_text()
    return CheckedSource(f"# quizgen: question {question_id}\n" + source, question, "honest.py")


def _assert_says_nothing_hidden(report, launcher, source: str = "") -> None:
    text = json.dumps(report.model_dump(mode="json"), ensure_ascii=False)
    assert SUITE_TEXT not in text, "a line of the hidden suite reached the report"
    assert REFERENCE_TEXT not in text, "a line of the reference reached the report"
    assert SECRET not in text, "the grader's environment reached the report"
    for hidden in (solutions_dir(), launcher.home, launcher.class_dir):
        if str(hidden) not in source:  # a path the attack was given may come back in its own error message
            assert str(hidden) not in text, f"a hidden folder's path reached the report: {hidden}"
    assert "QZ-ESCAPED" not in text, "an attack reports that it got past a wall"
    assert "\x1b" not in text and "\x07" not in text, "terminal control characters reached the report"


def _ipc_keys() -> set[str]:
    """System V IPC objects on the machine (a worker's must not outlive it)."""
    keys = set()
    for kind in ("shm", "msg", "sem"):
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:] if Path(f"/proc/sysvipc/{kind}").exists() else []
        keys |= {f"{kind}:{line.split()[0]}" for line in lines}
    return keys


@pytest.fixture(scope="module")
def suite_size(launcher) -> int:
    """How many tests the task-52 suite has: every report must cover them all."""
    return len(grade_checked(_honest(), launcher, seed=1).tests)


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_harmless(attack, launcher, listener, tmp_path, monkeypatch, suite_size):
    if attack == "signal_the_grader.py" and any("seccomp" in m for m in launcher.isolation.missing):
        pytest.skip("without seccomp, kill(-1) would reach the test runner itself")
    monkeypatch.setenv("QUIZGEN_HOME", str(launcher.home))
    store = open_store()
    store.db["attempts"].insert({"question_id": 52, "file": "earlier.py", "score": 42.0})
    store.db.conn.close()
    db = user_home() / "progress.db"
    before = _digest(db)
    port, received = listener
    marker = tmp_path / "escaped.txt"
    target = tmp_path / "escaped.txt.target"  # a file outside the worker's folder whose metadata must not change
    target.write_text("untouched")
    target.chmod(0o640)
    target_stat = target.stat()
    ipc_before = _ipc_keys()
    checked = CheckedSource(_source(MALICIOUS / attack, launcher, marker, port), load_bank().get(52), attack)

    start = time.monotonic()
    jobs = [checked, _honest()] if attack in NEIGHBOURLY else [checked]
    # Graded as a class is: one trusted session for both files, each in its own worker.
    report, *classmate = grade_many(jobs, launcher, seed=1, limits=LIMITS, batch=2)
    elapsed = time.monotonic() - start

    assert not report.all_passed, f"{attack} passed every test"
    assert report.score < (1 if attack in STEALERS else 100), f"{attack} scored {report.score}"
    for honest in classmate:
        assert honest.all_passed and honest.score == 100, f"{attack} changed a classmate's grade: {honest.failing[:2]}"
    assert elapsed <= LIMITS.total_seconds + RETURN_SLACK_S, f"grading took {elapsed:.1f} s"
    if report.gradable:
        assert report.max_score == 100 and len(report.tests) == suite_size, "the report lost tests"
    if attack in DELAYED:
        time.sleep(3.5)  # give a delayed escape (a detached `sleep 3; echo`) the time to show itself
    assert not marker.exists(), f"{attack} wrote outside its folder: {marker.read_text()!r}"
    assert received == [], f"{attack} reached a loopback server"
    assert _digest(db) == before, f"{attack} changed the database"
    assert open_store().attempts(52)[0]["score"] == 42.0
    assert _wait_until_no_workers(launcher) == [], f"{attack} left a worker running"
    assert _leftovers(launcher) == [], f"{attack} left files behind"
    assert _ipc_keys() <= ipc_before, f"{attack} left System V IPC objects behind"
    after = target.stat()
    assert (after.st_mode, after.st_mtime_ns, after.st_uid) == (target_stat.st_mode, target_stat.st_mtime_ns,
                                                                 target_stat.st_uid), f"{attack} changed a file's metadata"
    _assert_says_nothing_hidden(report, launcher, checked.source)


@pytest.mark.parametrize("question_id,attack", RULE_ATTACKS)
def test_rule_attack_loses_at_least_half(question_id, attack, launcher):
    question = load_bank().get(question_id)
    source = (MALICIOUS / RULE_FOLDERS[question_id] / attack).read_text()
    if attack in STATIC_ONLY:
        with pytest.raises(UnusableSubmission):
            check_source(source, attack, load_bank(), question_id)
        return
    report = grade_checked(CheckedSource(source, question, attack), launcher, seed=None,
                           limits=WorkerLimits(call_seconds=20.0, total_seconds=120.0, memory_mb=1024))
    assert not report.all_passed
    assert report.score <= RULE_CAP, f"{attack} scored {report.score}: {[t.title for t in report.failing][:4]}"
    assert _wait_until_no_workers(launcher) == []


def test_a_stalled_reply_times_out_and_every_test_is_still_reported(launcher, tmp_path):
    checked = CheckedSource(_source(MALICIOUS / "stall_reply.py", launcher, tmp_path / "m"), load_bank().get(52), "s.py")
    limits = WorkerLimits(call_seconds=2.0, total_seconds=8.0, memory_mb=1024)
    start = time.monotonic()
    report = grade_checked(checked, launcher, seed=1, limits=limits)
    assert time.monotonic() - start <= limits.total_seconds + RETURN_SLACK_S
    assert report.score == 0 and report.max_score == 100
    statuses = {t.status.value for t in report.tests}
    assert "timeout" in statuses and statuses <= {"timeout", "not-run", "failed", "error"}, statuses


def test_a_deflate_bomb_is_refused_before_it_is_inflated(launcher, tmp_path):
    checked = CheckedSource(_source(MALICIOUS / "deflate_bomb.py", launcher, tmp_path / "m"), load_bank().get(52), "b.py")
    report = grade_checked(checked, launcher, seed=1, limits=WorkerLimits(call_seconds=20, total_seconds=40))
    assert report.score == 0
    assert any("compressed" in t.message for t in report.tests), [t.message for t in report.tests][:3]


def test_killing_the_grading_process_ends_its_worker(launcher, tmp_path):
    checked = CheckedSource(_source(MALICIOUS / "infinite_loop.py", launcher, tmp_path / "m"), load_bank().get(52), "i.py")
    pending = start_grading(checked, launcher, seed=1, limits=WorkerLimits(call_seconds=60, total_seconds=120))
    end = time.monotonic() + 30
    while not _supervisors(launcher) and time.monotonic() < end:
        time.sleep(0.05)
    assert _supervisors(launcher), "no worker started"
    os.kill(pending.pid, signal.SIGKILL)
    report = pending.wait()
    assert not report.all_passed and report.max_score == 100
    assert all(t.status.value == "not-run" for t in report.tests)
    assert _wait_until_no_workers(launcher) == [], "the worker outlived its grading process"


def test_no_hidden_path_is_on_the_launchers_command_line(launcher):
    cmdline = Path(f"/proc/{launcher.process.pid}/cmdline").read_bytes().decode()
    for hidden in (solutions_dir(), launcher.home, launcher.class_dir):
        assert str(hidden) not in cmdline


def test_every_report_names_its_isolation_mode(launcher):
    question = load_bank().get(52)
    report = grade_checked(CheckedSource(question.coding.stub, question, "moe.py"), launcher, seed=1, limits=LIMITS)
    mode = launcher.isolation.mode
    assert report.isolation.startswith(mode) and report.isolation_mode == mode
    if mode == "degraded":
        assert "namespaces disabled for this test" in report.isolation and "missing: namespaces" in report.isolation
    assert report.to_gradescope()["extra_data"]["isolation"] == report.isolation


def test_the_workers_folder_is_removed_with_the_launcher(tmp_path):
    instance = Launcher(hide=[], disable_namespaces="test")
    instance.isolation  # noqa: B018
    root = instance.workroot
    assert root.is_dir()
    instance.close()
    assert not root.exists()
