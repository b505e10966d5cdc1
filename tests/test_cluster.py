"""`quiz grade-batch --workers K | --scheduler ADDRESS`: a class fanned out over a dask.distributed cluster
gives the same rows, summary.csv and results.json as the local path. One LocalCluster (2 processes)
in all: starting one costs seconds."""

import csv
import json
import shutil

import pytest

from quizgen.cli import cli
from quizgen.grading.batch import DegradedIsolation
from quizgen.paths import solutions_dir
from quizgen.store import open_store
from quizgen.wire import Isolation

pytest.importorskip("distributed")


def _class_folder(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    reference = (solutions_dir() / "52_moe" / "reference.py").read_text()
    (folder / "alice.py").write_text("# quizgen: question 52\n" + reference)
    shutil.copy(solutions_dir() / "52_moe" / "wrong" / "missing_factor_E.py", folder / "bob.py")
    (folder / "carol.py").write_text("def route_top_k(:\n")
    return folder


def _rows(out) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader((out / "summary.csv").open())]


def _timeless(value):
    """``value`` without its timings (execution_time, *seconds), which differ from run to run."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k != "execution_time" and not k.endswith("seconds")}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _results(out, name) -> dict:
    return _timeless(json.loads((out / f"{name}.results.json").read_text()))


def test_two_local_dask_workers_give_the_rows_and_files_of_the_local_path(runner, tmp_path):
    folder = _class_folder(tmp_path)
    args = ["grade-batch", str(folder), "--question", "52", "--seed", "5"]
    local = runner.invoke(cli, [*args, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    on_dask = runner.invoke(cli, [*args, "--out", str(tmp_path / "dask"), "--workers", "2"])
    assert on_dask.exit_code == 0, on_dask.output
    rows = _rows(tmp_path / "dask")
    assert rows == _rows(tmp_path / "local")
    assert [(r["file"], r["score"], r["gradable"]) for r in rows] == [
        ("alice.py", "100.0", "True"), ("bob.py", rows[1]["score"], "True"), ("carol.py", "", "False")]
    assert 0 < float(rows[1]["score"]) < 100 and int(rows[1]["passed"]) < int(rows[1]["tests"])
    assert "carol.py:1: syntax error" in rows[2]["first_problem"]
    for name in ("alice.py", "bob.py", "carol.py"):
        assert _results(tmp_path / "dask", name) == _results(tmp_path / "local", name)
    assert _results(tmp_path / "dask", "alice.py")["extra_data"]["isolation_mode"] == "strong"
    assert on_dask.output.splitlines()[-1] == f"3 files graded; results in {tmp_path / 'dask'}"
    assert open_store().attempts() == []  # a class's grades are not the instructor's own progress


def test_scheduler_and_workers_together_are_refused(runner, tmp_path):
    result = runner.invoke(cli, ["grade-batch", str(_class_folder(tmp_path)), "--question", "52",
                                 "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == ("Error: --scheduler and --workers do not go together: --scheduler grades "
                                              "on an existing cluster, --workers starts one on this machine")


def test_an_unreachable_scheduler_is_named(runner, tmp_path, monkeypatch):
    from quizgen.grading import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    result = runner.invoke(cli, ["grade-batch", str(_class_folder(tmp_path)), "--question", "52",
                                 "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith("Error: cannot reach the dask scheduler at tcp://127.0.0.1:9: ")


class _Done:
    def __init__(self, value=None, error=None):
        self.value, self.error = value, error

    def result(self):
        if self.error:
            raise self.error
        return self.value


class _FakeClient:
    """Two workers, the second of which has only the degraded walls."""

    def wait_for_workers(self, n, timeout):
        pass

    def nthreads(self):
        return {"tcp://127.0.0.1:2": 1, "tcp://127.0.0.1:1": 1}

    def submit(self, function, *args, workers, **options):
        strong = workers == ["tcp://127.0.0.1:1"]
        return _Done(Isolation(mode="strong" if strong else "degraded", reason="" if strong else "no user namespaces")
                     .to_dict())


def test_a_degraded_worker_stops_the_class_unless_allowed():
    from quizgen.grading.cluster import check_workers

    with pytest.raises(DegradedIsolation) as refused:
        check_workers(_FakeClient(), ["/class"], allow_degraded=False)
    assert str(refused.value) == ("the grading sandbox is degraded on dask worker tcp://127.0.0.1:2 (no user "
                                  "namespaces); grading a class's untrusted code needs the strong walls. Pass "
                                  "--allow-degraded to grade anyway.")
    modes = check_workers(_FakeClient(), ["/class"], allow_degraded=True)
    assert {a: i.mode for a, i in modes.items()} == {"tcp://127.0.0.1:1": "strong", "tcp://127.0.0.1:2": "degraded"}


def test_a_lost_task_costs_that_students_grade_only():
    from quizgen.grading.cluster import _report

    report = _report(_Done(error=RuntimeError("worker vanished")), "dave.py", 52, "cpu", 3)
    assert not report.gradable and report.file == "dave.py"
    assert report.message == "grader error on the cluster (RuntimeError: worker vanished); the file was not graded"
    with pytest.raises(DegradedIsolation):
        _report(_Done(error=DegradedIsolation("degraded")), "dave.py", 52, "cpu", 3)


def test_a_worker_that_grades_a_second_class_hides_both_folders(monkeypatch, tmp_path):
    import types

    from quizgen import api
    from quizgen.grading import client

    class FakeLauncher:
        def __init__(self, hide):
            self.hide, self.closed = hide, False
            self.process = types.SimpleNamespace(poll=lambda: None)

        def close(self):
            self.closed = True

    monkeypatch.setattr(client, "Launcher", FakeLauncher)
    monkeypatch.setattr(api, "_launcher", None)
    monkeypatch.setattr(api, "_hidden", frozenset())
    first_class, second_class = tmp_path / "a", tmp_path / "b"
    first = api.shared_launcher([first_class])
    assert api.shared_launcher([first_class]) is first and api.shared_launcher() is first  # warm: reused
    second = api.shared_launcher([second_class])
    assert first.closed and not second.closed
    assert {first_class.resolve(), second_class.resolve()} <= set(second.hide)
