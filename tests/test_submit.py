"""`quiz submit` end to end on the pilot task 52: grades, exit codes, messages, records."""

import json
import shutil
from pathlib import Path

import pytest

from quizgen.cli import cli
from quizgen.paths import solutions_dir
from quizgen.store import open_store

REFERENCE = solutions_dir() / "52_moe" / "reference.py"


@pytest.fixture
def reference_file(tmp_path) -> Path:
    path = tmp_path / "moe.py"
    path.write_text("# quizgen: question 52\n" + REFERENCE.read_text())
    return path


def test_reference_scores_100_and_exits_0(runner, reference_file):
    result = runner.invoke(cli, ["submit", str(reference_file)])
    assert result.exit_code == 0, result.output
    assert "Score 100.0 / 100" in result.output
    attempts = open_store().attempts(52)
    assert len(attempts) == 1 and attempts[0]["score"] == 100 and attempts[0]["all_passed"]


def test_untouched_stub_says_nothing_is_implemented_in_a_few_lines_and_is_not_recorded(runner, bank, tmp_path):
    path = tmp_path / "moe.py"
    path.write_text(bank.get(52).coding.stub)
    result = runner.invoke(cli, ["submit", str(path)])
    assert result.exit_code == 1, result.output
    assert "Nothing implemented yet: route_top_k(), load_balancing_loss(), moe_forward() still raise" in \
        " ".join(result.output.split())
    assert len(result.output.strip().splitlines()) <= 4
    assert open_store().attempts() == []


def test_json_output_follows_gradescope_schema(runner, reference_file):
    result = runner.invoke(cli, ["submit", str(reference_file), "--json"])
    data = json.loads(result.output)
    assert data["score"] == 100 and data["max_score"] == 100
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(data["tests"][0])
    assert data["extra_data"]["isolation"]


def test_failure_message_says_what_and_where(runner, tmp_path):
    mutant = solutions_dir() / "52_moe" / "wrong" / "missing_factor_E.py"
    path = tmp_path / "moe.py"
    shutil.copy(mutant, path)
    result = runner.invoke(cli, ["submit", str(path), "--json", "--seed", "7"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    message = failed[0]["output"]
    assert "greatest absolute difference" in message and "at index" in message
    assert "Seed: 7" in data["output"] and data["extra_data"]["seed"] == 7


def test_seed_replays_the_same_random_cases(runner, tmp_path):
    path = tmp_path / "moe.py"
    shutil.copy(solutions_dir() / "52_moe" / "wrong" / "missing_factor_E.py", path)
    first = json.loads(runner.invoke(cli, ["submit", str(path), "--json", "--seed", "11"]).output)
    second = json.loads(runner.invoke(cli, ["submit", str(path), "--json", "--seed", "11"]).output)
    assert [t["output"] for t in first["tests"]] == [t["output"] for t in second["tests"]]


@pytest.mark.parametrize("content, expected", [
    ("# quizgen: question 52\ndef route_top_k(x:\n", "moe.py:2: syntax error"),
    ("# quizgen: question 52\ndef route_top_k(l, k, r):\n    return l\n", "does not define load_balancing_loss(), moe_forward()"),
    ("", "the file is empty"),
    ("def route_top_k(a, b, c): pass\ndef load_balancing_loss(a, b): pass\n", "pass --question 52"),
    ("# quizgen: question 52\nimport os\ndef route_top_k(): pass\ndef load_balancing_loss(): pass\ndef moe_forward(): pass\n",
     "moe.py:2: imports 'os'"),
])
def test_unusable_files_exit_2_with_file_and_line(runner, tmp_path, content, expected):
    path = tmp_path / "moe.py"
    path.write_text(content)
    result = runner.invoke(cli, ["submit", str(path)])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert open_store().attempts() == []


def test_non_utf8_file_exits_2(runner, tmp_path):
    path = tmp_path / "moe.py"
    path.write_bytes(b"# quizgen: question 52\nx = '\xff'\n")
    result = runner.invoke(cli, ["submit", str(path)])
    assert result.exit_code == 2 and "moe.py:2: the file is not UTF-8" in result.output


def test_submission_for_another_question_is_named(runner, tmp_path, reference_file):
    result = runner.invoke(cli, ["submit", str(reference_file), "--question", "53"])
    assert result.exit_code == 2 and "header says question 52" in result.output


def test_missing_file_exits_2(runner, tmp_path):
    result = runner.invoke(cli, ["submit", str(tmp_path / "nope.py")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_import_time_error_is_not_gradable_and_not_recorded(runner, tmp_path):
    path = tmp_path / "moe.py"
    path.write_text("# quizgen: question 52\nraise RuntimeError('boom at import')\n"
                    "def route_top_k(): pass\ndef load_balancing_loss(): pass\ndef moe_forward(): pass\n")
    result = runner.invoke(cli, ["submit", str(path)])
    assert result.exit_code == 2
    assert "Not gradable" in result.output and "boom at import" in result.output and "moe.py" in result.output
    assert open_store().attempts() == []


def test_reference_on_device_moves_tensor_arguments_there_and_results_back():
    import torch

    from quizgen.grading.plugin import OnDevice

    class Module:
        SCALE = 2

        @staticmethod
        def devices(x, pair, *, y):
            return x.device.type, pair[0].device.type, y.device.type

        @staticmethod
        def double(x):
            return x * 2

    on_meta = OnDevice(Module, "meta")  # "meta" stands in for "cuda" on a machine without a GPU
    assert on_meta.SCALE == 2
    assert on_meta.devices(torch.ones(2), (torch.zeros(1), 3), y=torch.ones(1)) == ("meta", "meta", "meta")
    assert OnDevice(Module, "cpu").double(torch.ones(2)).tolist() == [2.0, 2.0]


def test_a_file_that_only_raises_value_error_earns_nothing_for_its_error_checks(runner, tmp_path):
    path = tmp_path / "moe.py"
    path.write_text("# quizgen: question 52\n"
                    "def route_top_k(l, k, r):\n    raise ValueError('k is wrong')\n"
                    "def load_balancing_loss(l, k):\n    raise ValueError('k is wrong')\n"
                    "def moe_forward(*a):\n    raise ValueError('k is wrong')\n")
    data = json.loads(runner.invoke(cli, ["submit", str(path), "--json"]).output)
    assert data["score"] == 0
    held = [t for t in data["tests"] if t["status"] == "passed"]
    assert held and all("count once the function passes a test of its values" in t["output"] for t in held)


def _children_of_this_process() -> list[str]:
    """The state letter of every child process (Z: a zombie nobody reaped)."""
    import os

    states = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                states.append(fields[0])
    return states


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_gradings_in_one_long_lived_process_leave_no_pipe_and_no_zombie_behind():
    """The server, a notebook and a dask worker grade in one process for hours: each grading's trusted
    process is reaped and its pipe closed, not one of each kept per grading."""
    import os

    import quizgen

    source = "# quizgen: question 65\n" + (solutions_dir() / "65_serving" / "reference.py").read_text()
    quizgen.grade(source, question=65, record=False)
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        assert quizgen.grade(source, question=65, record=False).score == 100
    assert len(os.listdir("/proc/self/fd")) <= fds
    assert _children_of_this_process().count("Z") <= 1  # at most the latest, reaped by the next grading


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_no_grading_process_outlives_the_command(tmp_path):
    """When `quiz validate` returns, no process it started is left in its process group."""
    import os
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "from quizgen.cli import main; main()", "validate", "65"],
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert process.wait(timeout=120) == 0
    group = [e for e in os.listdir("/proc") if e.isdigit() and _group_of(e) == process.pid]
    assert group == []


def _group_of(pid: str) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, ValueError, IndexError):
        return None
