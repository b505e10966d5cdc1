"""Gradescope: `quiz gradescope 58` writes an autograder zip; its run_autograder, unpacked into a root laid
out like Gradescope's (autograder/source, submission, results), grades the submission in the sandbox and
writes results.json in Gradescope's schema."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from quizgen.cli import cli
from quizgen.gradescope.build import CONFIG_NAME, AutograderConfig
from quizgen.gradescope.run import grade_files, results_json, run
from quizgen.grading.report import Report, Status, TestResult
from quizgen.paths import solutions_dir

TASK = solutions_dir() / "58_flash_attention"
CORRECT = "# quizgen: question 58\n" + (TASK / "reference.py").read_text()
WRONG = (TASK / "wrong" / "missing_scale.py").read_text()


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    result = CliRunner().invoke(cli, ["gradescope", "58", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Wrote {out}: question 58 (flash-attention), grading the submission's .py files")
    return out


def _gradescope_root(tmp_path: Path, autograder_zip: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    return root


def _run_autograder(root: Path) -> dict:
    """Gradescope's call, without setup.sh: this venv already has quizgen and torch."""
    env = os.environ | {"QUIZGEN_AUTOGRADER_ROOT": str(root), "QUIZGEN_AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], check=False, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_the_zip_holds_the_scripts_the_config_and_the_wheel(autograder_zip):
    archive = zipfile.ZipFile(autograder_zip)
    names = archive.namelist()
    assert names[:3] == ["setup.sh", "run_autograder", CONFIG_NAME]
    [wheel] = [n for n in names if n.endswith(".whl")]
    assert wheel.startswith("quizgen-") and len(names) == 4
    assert all(archive.getinfo(n).external_attr >> 16 & 0o111 for n in ("setup.sh", "run_autograder"))
    setup = archive.read("setup.sh").decode()
    assert "-m pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in setup
    assert '-m pip install "$SOURCE"/quizgen-*.whl' in setup
    assert "-m quizgen.gradescope.run" in archive.read("run_autograder").decode()
    assert AutograderConfig.from_json(archive.read(CONFIG_NAME).decode()) == AutograderConfig(question=58)
    inner = zipfile.ZipFile(archive.open(wheel))
    assert {"quizgen/_bundled/solutions/58_flash_attention/test_hidden.py",
            "quizgen/gradescope/run.py"} <= set(inner.namelist())


def test_run_autograder_gives_a_correct_file_full_marks(tmp_path, autograder_zip):
    root = _gradescope_root(tmp_path, autograder_zip, {"flash_attention.py": CORRECT})
    results = _run_autograder(root)
    assert results["score"] == results["max_score"] == 100
    assert results["tests"] and all(t["status"] == "passed" and t["visibility"] == "visible" for t in results["tests"])
    assert set(results["tests"][0]) >= {"name", "score", "max_score", "status", "output", "visibility"}
    seed = results["extra_data"]["seed"]
    assert isinstance(seed, int) and f"Seed: {seed}." in results["output"]
    assert "Isolation: strong" in results["output"] and results["extra_data"]["isolation_mode"] == "strong"
    assert results["execution_time"] > 0


def test_a_wrong_file_loses_points_and_the_root_is_hidden_from_the_worker(tmp_path, autograder_zip, monkeypatch):
    from quizgen.grading import runner

    hidden = []
    real = runner.grading_launcher

    def recording(extra):
        hidden.extend(extra)
        return real(extra)

    monkeypatch.setattr(runner, "grading_launcher", recording)
    root = _gradescope_root(tmp_path, autograder_zip, {"flash_attention.py": WRONG})
    results = run(root)
    assert hidden == [root.resolve()]  # /autograder as a whole: source (the zip), submission, results
    assert results == json.loads((root / "results" / "results.json").read_text())
    assert results["score"] < 100
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and "Looks like: forgets the 1/sqrt(D) scale" in failed[0]["output"]


def test_a_syntax_error_still_gives_a_valid_result_with_the_reason(tmp_path, autograder_zip):
    root = _gradescope_root(tmp_path, autograder_zip, {"flash_attention.py": "def flash_attention_forward(:\n"})
    results = _run_autograder(root)
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("flash_attention.py:1: syntax error: ")
    assert results["extra_data"]["gradable"] is False


def test_an_empty_submission_is_scored_zero_with_what_to_upload(tmp_path, autograder_zip):
    root = _gradescope_root(tmp_path, autograder_zip, {})
    (root / "submission" / "notes.txt").write_text("hello")
    results = _run_autograder(root)
    assert results == {"score": 0.0, "execution_time": 0.0, "tests": [], "visibility": "visible",
                       "output": "No .py file was submitted: upload your flash_attention.py."}


def test_the_file_the_instructor_named_must_be_there(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "other.py").write_text(CORRECT)
    [report] = grade_files([folder / "flash_attention.py"], folder, 58, launcher_for=None)
    assert not report.gradable
    assert report.message == "flash_attention.py: was not submitted; upload a file with exactly this name"


def _report(name: str, passed: bool) -> Report:
    status = Status.PASSED if passed else Status.FAILED
    return Report(question_id=58, file=name, seed=1, isolation="strong (test)", seconds=1.5,
                  tests=[TestResult(id="t", name="test_x", weight=100.0, status=status, message="")])


def test_several_files_count_the_best_and_name_every_score():
    reports = [_report("a.py", False), _report("b.py", True),
               Report(question_id=58, file="c.py", gradable=False, message="c.py:1: syntax error")]
    results = results_json(reports, AutograderConfig(question=58, visibility="after_due_date"), "flash_attention.py")
    assert results["score"] == 100
    assert results["output"].startswith("3 files were submitted; the grade is the best of them, b.py "
                                        "(a.py 0, b.py 100, c.py not gradable).")
    assert results["visibility"] == "after_due_date"
    assert [t["visibility"] for t in results["tests"]] == ["after_due_date"]
    assert results["execution_time"] == 3.0


def test_gradescope_refuses_a_question_number_that_is_not_in_the_bank(runner, tmp_path):
    result = runner.invoke(cli, ["gradescope", "99", "-o", str(tmp_path / "a.zip")])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith("Error: no question 99 in the bank")
