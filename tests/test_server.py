"""The grading server: started by the first `quiz submit`, the same report and exit status as grading
in-process, the attempt recorded, a private socket, and gone once idle."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest

from quizgen.paths import solutions_dir
from quizgen.store import open_store

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the server's peer check is Linux's")


def _submit(path, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from quizgen.cli import main; main()", "submit", str(path), "--seed", "3"],
                          capture_output=True, text=True, env=env, cwd=path.parent, timeout=300)


def test_a_warm_server_grades_like_quiz_submit_and_leaves_when_idle(tmp_path, quizgen_home):
    path = tmp_path / "moe.py"
    path.write_text("# quizgen: question 52\n" + (solutions_dir() / "52_moe" / "reference.py").read_text())
    env = os.environ | {"QUIZGEN_SERVER": "1", "QUIZGEN_SERVER_IDLE_S": "8", "COLUMNS": "100"}
    first = _submit(path, env)
    assert first.returncode == 0, first.stderr
    socket_file = quizgen_home / "run" / "grading.sock"
    assert stat.S_IMODE(os.stat(socket_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(quizgen_home / "run").st_mode) == 0o700
    start = time.monotonic()
    second = _submit(path, env)
    warm = time.monotonic() - start
    assert second.returncode == 0 and "Score 100.0 / 100" in second.stdout
    local = _submit(path, env | {"QUIZGEN_SERVER": "0"})
    assert local.returncode == 0
    assert second.stdout.splitlines()[:3] == local.stdout.splitlines()[:3]  # the same report, up to the timing line
    assert len(open_store().attempts(52)) == 3
    assert warm < 30, f"a warm regrade took {warm:.1f} s"
    deadline = time.monotonic() + 30
    while socket_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not socket_file.exists(), "the server did not leave after its idle time"


def test_an_unusable_file_through_the_server_exits_2_with_the_same_error(tmp_path, quizgen_home):
    path = tmp_path / "moe.py"
    path.write_text("# quizgen: question 52\ndef route_top_k(:\n")
    env = os.environ | {"QUIZGEN_SERVER": "1", "QUIZGEN_SERVER_IDLE_S": "5"}
    result = _submit(path, env)
    assert result.returncode == 2
    assert "Error: moe.py:2: syntax error" in result.stderr
