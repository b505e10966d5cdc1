"""The CLI as a user meets it, through click's CliRunner with QUIZGEN_HOME in a temporary folder."""

import json
import subprocess
import sys

import pytest

from quizgen.bank import load_bank
from quizgen.cli import cli
from quizgen.store import open_store


def test_list_shows_all_fifteen_questions(runner):
    result = runner.invoke(cli, ["list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == list(range(51, 66))
    assert rows[1]["slug"] == "moe" and "route_top_k" in rows[1]["functions"]


def test_list_filters_by_topic(runner):
    rows = json.loads(runner.invoke(cli, ["list", "--topic", "quantization", "--json"]).output)
    assert {r["id"] for r in rows} == {55, 59, 60}


def test_list_with_unknown_topic_is_a_usage_error(runner):
    result = runner.invoke(cli, ["list", "--topic", "nope"])
    assert result.exit_code == 2
    assert "no question has topic 'nope'" in result.output


def test_topics_lists_each_topic_with_its_questions(runner):
    result = runner.invoke(cli, ["topics"])
    assert result.exit_code == 0
    assert "moe" in result.output and "speculative-decoding" in result.output


def test_show_prints_the_corrected_answer(runner):
    result = runner.invoke(cli, ["show", "52"])
    assert result.exit_code == 0, result.output
    assert "Question 52" in result.output and "Pitfalls" in result.output and "References" in result.output


def test_show_unknown_question(runner):
    result = runner.invoke(cli, ["show", "99"])
    assert result.exit_code == 2 and "no question 99" in result.output


def test_stub_writes_the_file_and_refuses_to_overwrite(runner, tmp_path):
    target = tmp_path / "moe.py"
    result = runner.invoke(cli, ["stub", "52", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "# quizgen: question 52" in target.read_text()
    target.write_text("my work")
    again = runner.invoke(cli, ["stub", "52", "-o", str(target)])
    assert again.exit_code == 2 and "not overwritten" in again.output
    assert target.read_text() == "my work"


def _answers_for(questions) -> str:
    """Right answers for every item, in the order the session asks them."""
    from quizgen.bank.models import ChoiceItem, FlashcardItem, MultiItem, NumericItem

    lines = []
    for q in questions:
        for item in q.concepts:
            if isinstance(item, (ChoiceItem, MultiItem)):
                lines.append(",".join(str(i) for i, o in enumerate(item.options, 1) if o.correct))
            elif isinstance(item, NumericItem):
                lines.append(repr(item.answer))
            elif isinstance(item, FlashcardItem):
                lines += ["", "y"]
    return "\n".join(lines) + "\n"


def test_start_runs_the_quiz_records_answers_and_writes_the_stub(runner, bank, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    questions = bank.by_topic("moe")
    result = runner.invoke(cli, ["start", "--topic", "moe"], input=_answers_for(questions))
    assert result.exit_code == 0, result.output
    asked = sum(len(q.concepts) for q in questions)
    assert f"{asked} / {asked} right" in result.output
    assert (tmp_path / "moe.py").exists() and "quiz submit moe.py" in result.output
    answers = open_store().concept_answers(52)
    assert len(answers) == len(bank.get(52).concepts) and all(a["correct"] for a in answers)


@pytest.mark.parametrize("topic", sorted(load_bank().topics()))
def test_start_runs_to_the_end_for_every_topic(runner, bank, tmp_path, monkeypatch, topic):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["start", "--topic", topic, "--no-stub"], input=_answers_for(bank.by_topic(topic)))
    assert result.exit_code == 0, result.output
    assert " right." in result.output


def test_wrong_answers_are_marked_wrong_with_the_explanation(runner, bank, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    item = bank.get(52).concepts[0]
    wrong = next(str(i) for i, o in enumerate(item.options, 1) if not o.correct)
    result = runner.invoke(cli, ["start", "--topic", "moe", "--no-stub"], input=f"{wrong}\nq\n")
    assert "Not quite" in result.output and item.explanation.split()[0] in result.output
    assert "answers so far are saved" in result.output
    assert [a["correct"] for a in open_store().concept_answers(52)] == [0]


def test_invalid_choice_is_asked_again(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["start", "--topic", "moe", "--no-stub"], input="banana\n99\nq\n")
    assert "'banana' is not an option" in result.output and "'99' is not an option" in result.output


def test_progress_before_and_after_answers(runner):
    assert "No progress yet" in runner.invoke(cli, ["progress"]).output
    open_store().record_concept_answer(52, "x", "choice", "1", True)
    result = runner.invoke(cli, ["progress"])
    assert result.exit_code == 0 and "52 moe" in result.output


def test_hint_reveals_one_more_each_time(runner, bank):
    first = runner.invoke(cli, ["hint", "52"]).output
    second = runner.invoke(cli, ["hint", "52"]).output
    assert "Hint 1/3" in first and "Hint 2/3" in second


def test_browsing_commands_do_not_import_torch():
    code = ("import sys; from click.testing import CliRunner; from quizgen.cli import cli; r = CliRunner(); "
            "[r.invoke(cli, a, input='q\\n') for a in (['list'], ['show', '52'], ['topics'], "
            "['start', '--topic', 'moe', '--no-stub'])]; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
