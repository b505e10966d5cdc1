"""The malicious corpus (tests/malicious/): every attack fails, in the strong and in the degraded mode.

Each file is graded past the static check (which alone would refuse most of them), so that the
runtime walls are what is tested: the grade is not a pass, the grader returns within its time
limit plus two seconds, the database is intact, and nothing is written outside the worker's folder.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from pathlib import Path

import pytest

from quizgen.bank import load_bank
from quizgen.cli import cli
from quizgen.grading.proxy import Launcher, WorkerLimits
from quizgen.grading.runner import grade_checked
from quizgen.grading.static import CheckedSource
from quizgen.paths import solutions_dir, user_home
from quizgen.store import open_store

MALICIOUS = Path(__file__).parent / "malicious"
ATTACKS = sorted(p.name for p in MALICIOUS.glob("*.py"))
LIMITS = WorkerLimits(call_seconds=3.0, total_seconds=8.0, memory_mb=1024)
DELAYED_ATTACKS = {"subprocess_escape.py", "fork_bomb.py", "ctypes_fork.py"}
RETURN_SLACK_S = 2.0 + 3.0  # the contract's two seconds, plus pytest's own start-up in the trusted child


@pytest.fixture(scope="module", params=["strong", "degraded"])
def launcher(request, tmp_path_factory):
    home = tmp_path_factory.mktemp("home-for-launcher")
    disable = None if request.param == "strong" else "namespaces disabled for this test"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QUIZGEN_HOME", str(home))
        instance = Launcher(hide=[solutions_dir(), home], disable_namespaces=disable)
    isolation = instance.isolation  # waits until the launcher has imported torch: not part of any grading
    if request.param == "strong" and isolation["mode"] != "strong":
        instance.close()
        pytest.skip(f"namespaces unavailable here: {instance.isolation['reason']}")
    instance.home = home
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


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_fails(attack, launcher, listener, tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZGEN_HOME", str(launcher.home))
    store = open_store()
    store.db["attempts"].insert({"question_id": 52, "file": "earlier.py", "score": 42.0})
    store.db.conn.close()
    db = user_home() / "progress.db"
    before = _digest(db)
    port, received = listener
    marker = tmp_path / "escaped.txt"
    source = ((MALICIOUS / attack).read_text()
              .replace("__REFERENCE_PATH__", str(solutions_dir() / "52_moe" / "reference.py"))
              .replace("__SOLUTIONS_DIR__", str(solutions_dir()))
              .replace("__DB_PATH__", str(db)).replace("__MARKER__", str(marker)).replace("__PORT__", str(port)))
    checked = CheckedSource(source, load_bank().get(52), attack)

    start = time.monotonic()
    report = grade_checked(checked, launcher, seed=1, limits=LIMITS)
    elapsed = time.monotonic() - start

    assert not report.all_passed, f"{attack} passed every test"
    assert report.score < 100
    assert elapsed <= LIMITS.total_seconds + RETURN_SLACK_S, f"grading took {elapsed:.1f} s"
    if attack in DELAYED_ATTACKS:
        time.sleep(3.5)  # give a delayed escape (a detached `sleep 3; echo`) the time to show itself
    assert not marker.exists(), f"{attack} wrote outside its folder: {marker.read_text()!r}"
    assert received == [], f"{attack} reached a loopback server"
    assert _digest(db) == before, f"{attack} changed the database"
    assert open_store().attempts(52)[0]["score"] == 42.0


def test_every_report_names_its_isolation_mode(launcher):
    checked = CheckedSource(load_bank().get(52).coding.stub, load_bank().get(52), "moe.py")
    report = grade_checked(checked, launcher, seed=1, limits=LIMITS)
    mode = launcher.isolation["mode"]
    assert report.isolation.startswith(mode)
    if mode == "degraded":
        assert "namespaces disabled for this test" in report.isolation
    assert report.to_gradescope()["extra_data"]["isolation"] == report.isolation


def test_static_check_refuses_most_attacks_with_a_clear_message(runner, tmp_path):
    refused = 0
    for attack in ATTACKS:
        path = tmp_path / attack
        path.write_text((MALICIOUS / attack).read_text().replace("__PORT__", "1"))
        result = runner.invoke(cli, ["submit", str(path)])
        assert result.exit_code in (1, 2), result.output
        if result.exit_code == 2 and "Not gradable" not in result.output:
            assert f"{attack}:" in result.output and "imports" in result.output, result.output
            refused += 1
    assert refused >= len(ATTACKS) // 2


def test_forbidden_op_through_an_aten_alias_is_caught(launcher):
    question = load_bank().get(58)
    source = (MALICIOUS / "flash_attention" / "aten_alias.py").read_text()
    report = grade_checked(CheckedSource(source, question, "aten_alias.py"), launcher, seed=1)
    assert not report.all_passed
    assert any("fused attention op" in t.message for t in report.failing), [t.message for t in report.failing][:3]
