"""Notebooks: `%load_ext quizgen` in a real IPython kernel (ipykernel), driven by nbclient, and the HTML
report on its own. The submission is graded in the sandbox, never run in the kernel."""

import os

import pytest

from quizgen.grading.report import Report, Status, TestResult
from quizgen.paths import solutions_dir

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REFERENCE = (solutions_dir() / "52_moe" / "reference.py").read_text()
WRONG = (solutions_dir() / "52_moe" / "wrong" / "missing_factor_E.py").read_text()


def _run_notebook(tmp_path, home, cells: list[str]):
    """Execute ``cells`` in a fresh python3 kernel; returns the notebook and each cell's execute_reply."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "practice.ipynb"
    nbformat.write(nb, path)
    nb = nbformat.read(path, as_version=4)
    replies = {}
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=True,
                                     resources={"metadata": {"path": str(tmp_path)}},
                                     on_cell_executed=lambda cell, cell_index, execute_reply: replies.__setitem__(
                                         cell_index, execute_reply))
    client.execute(env=os.environ | {"QUIZGEN_HOME": str(home)})
    return nb, replies


def _html(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def _text(cell) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("notebook")
    home = tmp_path_factory.mktemp("notebook-home")
    cells = [
        "%load_ext quizgen",
        "%quiz stub 52",
        "%%quiz submit 52 --seed 11\n" + REFERENCE,  # no `# quizgen: question 52` header: the magic names it
        "%%quiz submit 52 --seed 11\n" + WRONG,
        "%%quiz submit 52\ndef route_top_k(:\n    pass\n",
        "%quiz hint 52",
        "%quiz show 52",
        "%quiz stub 99",
        "import sys\n'quizgen.sandbox.worker' in sys.modules, 'route_top_k' in globals()",
    ]
    nb, replies = _run_notebook(tmp_path, home, cells)
    return nb, replies, home


def test_submit_cell_renders_the_html_report_with_the_score(executed):
    nb, _, _ = executed
    html = _html(nb.cells[2])
    assert "Score 100.0 / 100" in html and "isolation: strong" in html
    assert "<script" not in html
    assert "Score 100.0 / 100" in _text(nb.cells[2])  # the text/plain repr: the terminal report


def test_a_wrong_cell_shows_its_failures_first_then_the_functions_and_the_seed(executed):
    from quizgen.store import open_store

    nb, _, home = executed
    score = open_store(home / "progress.db").attempts(52)[1]["score"]
    html = _html(nb.cells[3])
    assert 0 < score < 100
    assert html.index("Failures") < html.index("load_balancing_loss</code>") < html.index(f"Score {score:.1f} / 100")
    assert "Looks like:</b> the balancing loss forgets the factor E" in html
    assert "Random cases came from seed 11" in html


def test_a_syntax_error_is_reported_not_raised(executed):
    nb, _, _ = executed
    html = _html(nb.cells[4])
    assert "Not gradable" in html and "cell.py:1: syntax error" in html
    assert not [o for o in nb.cells[4].outputs if o.output_type == "error"]


def test_stub_goes_into_the_next_cell_through_the_payload(executed):
    nb, replies, _ = executed
    payload = replies[1]["content"]["payload"]
    assert payload[0]["source"] == "set_next_input" and payload[0]["replace"] is False
    assert payload[0]["text"].startswith("%%quiz submit 52\n")
    assert "def route_top_k(" in payload[0]["text"]
    assert "The stub of question 52 is in the next cell" in _text(nb.cells[1])


def test_attempts_and_hints_are_recorded_in_the_kernels_store(executed):
    from quizgen.store import open_store

    _, _, home = executed
    store = open_store(home / "progress.db")
    attempts = store.attempts(52)
    assert [a["score"] == 100 for a in attempts] == [True, False]  # the syntax error is not an attempt
    assert {a["file"] for a in attempts} == {"cell.py"}
    assert store.hints_used(52) == 1


def test_show_and_hint_print_in_the_notebook(executed):
    nb, _, _ = executed
    assert "Hint 1/3 for question 52" in _text(nb.cells[5]) + _html(nb.cells[5])
    assert "Question 52" in _text(nb.cells[6]) + _html(nb.cells[6])


def test_an_unknown_question_is_a_usage_error_without_traceback(executed):
    nb, _, _ = executed
    [output] = nb.cells[7].outputs
    assert output.output_type == "stream" and output.name == "stderr"
    assert output.text.startswith("UsageError: no question 99 in the bank (known: 51, 52,")


def test_the_kernel_never_imports_the_submission(executed):
    nb, _, _ = executed
    assert _text(nb.cells[8]).strip().endswith("(False, False)")


def test_html_report_escapes_untrusted_messages_and_names():
    from quizgen.grading.html import report_html

    evil = "<script>alert(1)</script>"
    report = Report(question_id=52, file=f"{evil}.py", seed=5, isolation="strong (test)", isolation_mode="strong",
                    tests=[TestResult(id="t", name="test_x", function="route_top_k", weight=1.0,
                                      status=Status.FAILED, message=f"got {evil}", diagnosis=evil)])
    html = report_html(report)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Score 0.0 / 1" in html and "seed 5" in html
    assert "<summary>isolation: strong (every wall stands)</summary>strong (test)</details>" in html
    degraded = report.model_copy(update={"isolation": "degraded (no user namespaces; walls: none)",
                                         "isolation_mode": "degraded"})
    assert '">isolation: degraded (no user namespaces; walls: none)</div>' in report_html(degraded)


def test_html_report_shows_each_failing_test_once_with_its_count_of_cases():
    from quizgen.grading.html import report_html

    cases = [TestResult(id=f"t{i}", name="test_route", case=f"T={i}", function="route_top_k", weight=1.0,
                        status=Status.FAILED, message=f"case {i} differs", diagnosis="softmax over tokens")
             for i in range(3)]
    report = Report(question_id=52, file="moe.py", seed=9, isolation="strong (test)", isolation_mode="strong",
                    tests=[*cases, TestResult(id="ok", name="test_ok", function="moe_forward", weight=2.0,
                                              status=Status.PASSED)])
    html = report_html(report)
    assert html.count("test_route [T=") == 1 and "test_route [T=0]" in html and "(and 2 more failing cases)" in html
    assert "<b>looks like:</b> softmax over tokens" in html  # the function's common diagnosis
    assert "Random cases came from seed 9: pass --seed 9 to replay them; -v lists every test." in html
    assert report_html(report, verbose=True).count("test_route [T=") == 3
