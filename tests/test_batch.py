"""Instructors: `quiz grade-batch` grades a folder, one report per file, unusable files included."""

import csv
import json
import shutil

from quizgen.cli import cli
from quizgen.paths import solutions_dir
from quizgen.store import open_store


def test_grade_batch_writes_a_summary_and_gradescope_files(runner, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text("# quizgen: question 52\n" + (solutions_dir() / "52_moe" / "reference.py").read_text())
    shutil.copy(solutions_dir() / "52_moe" / "wrong" / "missing_factor_E.py", folder / "bob.py")
    (folder / "carol.py").write_text("def route_top_k(:\n")
    out = tmp_path / "grades"
    result = runner.invoke(cli, ["grade-batch", str(folder), "--question", "52", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["file"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert float(rows["alice.py"]["score"]) == 100
    assert 0 < float(rows["bob.py"]["score"]) < 100
    assert rows["carol.py"]["gradable"] == "False" and "syntax error" in rows["carol.py"]["first_problem"]
    assert json.loads((out / "bob.py.results.json").read_text())["max_score"] == 100
    assert open_store().attempts() == []  # a class's grades are not the instructor's own progress


def test_two_submits_at_once_are_both_recorded(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "moe.py"
    path.write_text("# quizgen: question 52\n" + (solutions_dir() / "52_moe" / "reference.py").read_text())
    cmd = [sys.executable, "-c", "from quizgen.cli import main; main()", "submit", str(path), "--json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert len(open_store().attempts(52)) == 2


def test_batch_refuses_links_escapes_formulas_and_markup(runner, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    reference = solutions_dir() / "52_moe" / "reference.py"
    (folder / "linked.py").symlink_to(reference)  # the hidden reference, one symlink away
    (folder / "=HYPERLINK(1).py").write_text("# quizgen: question 52\n" + reference.read_text())
    (folder / "[bold red]x.py").write_text("def route_top_k(:\n")
    out = tmp_path / "grades"
    result = runner.invoke(cli, ["grade-batch", str(folder), "--question", "52", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "[bold red]x.py" in result.output  # shown as typed, never rendered as markup
    text = (out / "summary.csv").read_text()
    rows = {r["file"]: r for r in csv.DictReader(text.splitlines())}
    assert rows["linked.py"]["gradable"] == "False" and "symbolic link" in rows["linked.py"]["first_problem"]
    assert "'=HYPERLINK(1).py" in rows and float(rows["'=HYPERLINK(1).py"]["score"]) == 100
    assert "\n=" not in text and ",=" not in text


def test_batch_refuses_the_degraded_mode_unless_allowed(runner, tmp_path, monkeypatch):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "a.py").write_text("def route_top_k(:\n")
    monkeypatch.setenv("QUIZGEN_NO_NAMESPACES", "1")
    refused = runner.invoke(cli, ["grade-batch", str(folder), "--question", "52"])
    assert refused.exit_code == 2
    assert "Error: the grading sandbox is degraded here (namespaces disabled by QUIZGEN_NO_NAMESPACES)" in refused.output
    assert "Pass --allow-degraded" in " ".join(refused.output.split())
    allowed = runner.invoke(cli, ["grade-batch", str(folder), "--question", "52", "--allow-degraded"])
    assert allowed.exit_code == 0, allowed.output


def test_one_odd_file_never_costs_the_class_its_gradebook(runner, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    good = "# quizgen: question 52\n" + (solutions_dir() / "52_moe" / "reference.py").read_text()
    (folder / "a_alice.py").write_text(good)
    (folder / "b_bob.py").write_text("# quizgen: question 52\nx = " + "-" * 100_000 + "1\n")  # crashes ast.parse
    (folder / "c_carol.py").write_text(good)
    with open(bytes(folder / "d_dan") + b"\xff.py", "w") as handle:  # a name that is not UTF-8
        handle.write(good)
    out = tmp_path / "grades"
    result = runner.invoke(cli, ["grade-batch", str(folder), "--question", "52", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["file"]: r for r in csv.DictReader((out / "summary.csv").open(encoding="utf-8"))}
    assert float(rows["a_alice.py"]["score"]) == 100 and float(rows["c_carol.py"]["score"]) == 100
    assert "nested too deeply" in rows["b_bob.py"]["first_problem"]
    assert "not UTF-8" in rows["d_dan\\xff.py"]["first_problem"]
