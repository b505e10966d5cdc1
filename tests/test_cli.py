"""The CLI as a user meets it, through click's CliRunner with QUIZGEN_HOME in a temporary folder."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from _study_fixtures import insert_attempt

from quizgen.bank import load_bank
from quizgen.cli import cli
from quizgen.quiz import session
from quizgen.review.scheduler import record_review
from quizgen.store import open_store


class InOrder:
    """A stand-in for the options' random order: the order of the file, so that a test can type the
    right numbers in advance. The shuffling itself is tested in tests/test_quiz_session.py."""

    def sample(self, population, k):
        return list(population)[:k]


@pytest.fixture
def unshuffled(monkeypatch):
    monkeypatch.setattr(session, "presentation_rng", InOrder)


def error_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("Error:"))


# -- browsing --------------------------------------------------------------------------------------

def test_list_shows_all_fifteen_questions(runner):
    result = runner.invoke(cli, ["list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == list(range(51, 66))
    assert rows[1]["slug"] == "moe" and "route_top_k" in rows[1]["functions"]
    assert rows[1]["task"] == "-" and rows[1]["answered"] == 0 and rows[1]["due"] == 0


def test_list_filters_by_topic(runner):
    rows = json.loads(runner.invoke(cli, ["list", "--topic", "quantization", "--json"]).output)
    assert {r["id"] for r in rows} == {55, 59, 60}


@pytest.mark.parametrize("topic, ids", [("MoE", [52]), ("52", [52]), ("flash", [58]), ("Flash-Attention", [58]),
                                        ("speculative", [64]), ("attention", [53, 58])])
def test_topics_match_ignoring_case_by_number_and_by_prefix(runner, topic, ids):
    result = runner.invoke(cli, ["list", "--topic", topic, "--json"])
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.output)] == ids


@pytest.mark.parametrize("topic, error", [
    ("nope", "Error: no question has topic 'nope'; see `quiz topics`"),
    ("moee", "Error: no question has topic 'moee'; did you mean moe? (see `quiz topics`)"),
    ("quantisation", ("Error: no question has topic 'quantisation'; did you mean quantization or "
                      "quantization-modes? (see `quiz topics`)")),
    ("99", "Error: no question 99 in the bank (the questions are 51-65); see `quiz list`"),
])
def test_unknown_topic_is_a_usage_error_that_suggests_the_nearest(runner, topic, error):
    for command in (["list"], ["start", "--no-stub"], ["export", "--html", "unused.html"]):
        result = runner.invoke(cli, [*command, "--topic", topic])
        assert result.exit_code == 2, (command, result.output)
        assert error_line(result.output) == error


def test_list_shows_each_questions_state(runner):
    store = open_store()
    insert_attempt(store, 52)
    insert_attempt(store, 53, score=40)
    store.record_concept_answer(54, "a", "choice", "1", True)
    store.record_concept_answer(54, "a", "choice", "2", False)
    store.record_concept_answer(54, "b", "choice", "1", True)
    record_review(store, 54, "a", 1, datetime.now(UTC) - timedelta(days=2))
    rows = {r["id"]: r for r in json.loads(runner.invoke(cli, ["list", "--json"]).output)}
    assert (rows[52]["task"], rows[53]["task"], rows[54]["task"]) == ("solved", "attempted", "-")
    assert (rows[54]["answered"], rows[54]["due"], rows[55]["answered"]) == (2, 1, 0)
    table = runner.invoke(cli, ["list"]).output
    assert "solved" in table and "attempted" in table and f"2/{rows[54]['concepts']}" in table


def test_list_does_not_create_a_database(runner, quizgen_home):
    assert runner.invoke(cli, ["list"]).exit_code == 0
    assert not (quizgen_home / "progress.db").exists()


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
    assert result.exit_code == 2
    assert error_line(result.output) == "Error: no question 99 in the bank (known: " + \
        ", ".join(str(i) for i in range(51, 66)) + ")"


def test_stub_writes_the_file_and_refuses_to_overwrite(runner, tmp_path):
    target = tmp_path / "moe.py"
    result = runner.invoke(cli, ["stub", "52", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "# quizgen: question 52" in target.read_text()
    target.write_text("my work")
    again = runner.invoke(cli, ["stub", "52", "-o", str(target)])
    assert again.exit_code == 2
    assert error_line(again.output) == \
        f"Error: {target} already exists; not overwritten (use --force, or -o another name)"
    assert target.read_text() == "my work"


# -- the quiz --------------------------------------------------------------------------------------

def _answers_for(questions) -> str:
    """Right answers for every item, in the order the session asks them (options in file order)."""
    from quizgen.bank.models import BugItem, ChoiceItem, DesignItem, FlashcardItem, MultiItem, NumericItem

    lines = []
    for q in questions:
        for item in q.concepts:
            if isinstance(item, (ChoiceItem, MultiItem)):
                lines.append(",".join(str(i) for i, o in enumerate(item.options, 1) if o.correct))
            elif isinstance(item, NumericItem):
                lines.append(repr(item.answer))
            elif isinstance(item, FlashcardItem):
                lines += ["", "3"]
            elif isinstance(item, DesignItem):
                lines += ["my answer", "all"]
            elif isinstance(item, BugItem):
                lines.append(str(item.bug_line))
    return "\n".join(lines) + "\n"


def test_start_runs_the_quiz_records_answers_and_writes_the_stub(runner, bank, tmp_path, monkeypatch, unshuffled):
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
def test_start_runs_to_the_end_for_every_topic(runner, bank, tmp_path, monkeypatch, unshuffled, topic):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["start", "--topic", topic, "--no-stub"], input=_answers_for(bank.by_topic(topic)))
    assert result.exit_code == 0, result.output
    asked = sum(len(q.concepts) for q in bank.by_topic(topic))
    assert f"{asked} / {asked} right." in result.output
    assert "\\frac" not in result.output and "\\mathcal" not in result.output and "$" not in result.output


def test_wrong_answers_are_marked_wrong_with_the_explanation(runner, toy_bank, unshuffled):
    result = runner.invoke(cli, ["start", "--topic", "toy", "--no-stub"], input="2\nq\n")
    assert "Not quite. The answer:\n  1. 1/√d" in result.output
    assert "Dividing by √d keeps the variance at 1." in result.output
    assert "answers so far are saved" in result.output
    [answer] = open_store().concept_answers(901)
    assert (answer["correct"], answer["response"], json.loads(answer["chosen"])) == (0, "2", ["$1/d$"])


def test_invalid_answers_are_asked_again(runner, toy_bank, unshuffled):
    result = runner.invoke(cli, ["start", "--topic", "toy", "--no-stub"],
                           input="banana\n99\n1 2\n1\n1,2\nmany\n14\nsixteen\nq\n")
    lines = result.output.splitlines()
    assert "'banana' is not an option: type a number from 1 to 4" in lines
    assert "'99' is not an option: type a number from 1 to 4" in lines
    assert "pick exactly one option" in lines
    assert "'many' is not a number (examples: 0.5, 1e9, 4096)" in lines
    assert "'sixteen' is not a number (examples: 0.5, 1e9, 4096)" in lines
    assert len(open_store().concept_answers(901)) == 3


# -- hints, solutions, reset -----------------------------------------------------------------------

def test_hint_reveals_one_more_each_time_and_says_when_there_are_no_more(runner, toy_bank):
    first = runner.invoke(cli, ["hint", "901"]).output
    assert first.splitlines() == ["Hint 1/3 for question 901:", "Use softmax over the last dimension.",
                                  "2 more: `quiz hint 901`."]
    second = runner.invoke(cli, ["hint", "901"]).output
    assert second.startswith("Hint 2/3 for question 901:\nThen topk with k experts.")
    third = runner.invoke(cli, ["hint", "901"]).output
    assert third.startswith("Hint 3/3 for question 901:\nRenormalise: gᵢ = pᵢ / ∑ⱼ pⱼ.")
    no_more = ("No more hints: all 3 are revealed (`quiz hint 901 --all` shows them). "
               "Stuck? `quiz solution 901 --give-up` shows the reference.")
    assert no_more in " ".join(third.split())
    fourth = runner.invoke(cli, ["hint", "901"]).output
    assert "Hint" not in fourth and no_more in " ".join(fourth.split())
    assert len(list(open_store().db["hints_used"].rows)) == 3


def test_hint_all_shows_the_hints_revealed_so_far(runner, toy_bank):
    assert runner.invoke(cli, ["hint", "901", "--all"]).output.strip() == \
        "No hint revealed yet for question 901: `quiz hint 901` shows the first."
    runner.invoke(cli, ["hint", "901"])
    runner.invoke(cli, ["hint", "901"])
    shown = runner.invoke(cli, ["hint", "901", "--all"]).output
    assert shown.splitlines()[:4] == ["Hint 1/3 for question 901:", "Use softmax over the last dimension.",
                                      "Hint 2/3 for question 901:", "Then topk with k experts."]
    assert "Hint 3/3" not in shown and "1 more: `quiz hint 901`." in shown
    assert open_store().hints_used(901) == 2  # --all reveals nothing new


def test_hint_for_a_question_without_hints(runner, toy_bank):
    result = runner.invoke(cli, ["hint", "902"])
    assert result.exit_code == 2
    assert error_line(result.output) == "Error: question 902 has no hints"


def _pass(question_id: int) -> None:
    insert_attempt(open_store(), question_id)


def test_solution_needs_a_pass_or_giving_up(runner):
    refused = runner.invoke(cli, ["solution", "52"])
    assert refused.exit_code == 1
    assert error_line(refused.output) == ("Error: question 52 is not solved yet; pass it first (quiz submit moe.py), "
                                          "or see the reference anyway with: quiz solution 52 --give-up")
    gave_up = runner.invoke(cli, ["solution", "52", "--give-up"])
    assert gave_up.exit_code == 0, gave_up.output
    assert "Reference solution for question 52 (solutions/52_moe/reference.py)" in gave_up.output
    assert "def route_top_k(" in gave_up.output
    assert "Recorded: you gave up on question 52." in gave_up.output
    assert runner.invoke(cli, ["solution", "52"]).exit_code == 0  # once given up, it stays open
    progress = json.loads(runner.invoke(cli, ["progress", "--json"]).output)
    row = next(q for q in progress["questions"] if q["id"] == 52)
    assert row["gave_up"] and not row["solved"]


def test_solution_after_a_pass_is_not_giving_up(runner):
    _pass(53)
    result = runner.invoke(cli, ["solution", "53"])
    assert result.exit_code == 0, result.output
    assert "solutions/53_sparse_attention/reference.py" in result.output and "gave up" not in result.output
    assert [r["reason"] for r in open_store().db["solutions_shown"].rows] == ["passed"]


def test_solution_of_a_task_without_a_reference_yet(runner, toy_bank):
    _pass(901)
    result = runner.invoke(cli, ["solution", "901"])
    assert result.exit_code == 1
    assert error_line(result.output).startswith("Error: question 901 has no reference solution yet (")
    assert error_line(runner.invoke(cli, ["solution", "902"]).output) == "Error: question 902 has no coding task"


def test_reset_asks_first_and_clears_one_question(runner, toy_bank, unshuffled):
    runner.invoke(cli, ["start", "--topic", "toy-serving", "--no-stub"], input="1\n")
    runner.invoke(cli, ["start", "--topic", "toy-routing", "--no-stub"], input="1\nq\n")
    runner.invoke(cli, ["hint", "901"])
    declined = runner.invoke(cli, ["reset", "901"], input="n\n")
    assert declined.exit_code == 1
    assert declined.output.splitlines()[0] == \
        "Delete question 901's progress (1 concept answer, 1 hint, 1 review card, 1 review)? [y/N]: n"
    assert len(open_store().concept_answers(901)) == 1
    done = runner.invoke(cli, ["reset", "901"], input="y\n")
    assert done.exit_code == 0 and done.output.splitlines()[-1] == "Question 901's progress is cleared."
    store = open_store()
    assert store.question_rows(901) == dict.fromkeys(store.question_rows(901), 0)
    assert len(store.concept_answers(902)) == 1  # the other question is untouched
    assert runner.invoke(cli, ["reset", "901", "--yes"]).output.strip() == \
        "Nothing to reset: no progress is recorded for question 901."


# -- progress --------------------------------------------------------------------------------------

def test_progress_before_anything(runner):
    assert runner.invoke(cli, ["progress"]).output.strip() == \
        "No progress yet (0/15 coding tasks solved): try `quiz start --topic moe`."


def test_progress_opens_with_an_overview(runner, toy_bank, unshuffled):
    _pass(901)
    runner.invoke(cli, ["start", "--topic", "toy", "--no-stub"], input="1\n3\nq\n")  # right, wrong
    result = runner.invoke(cli, ["progress"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("Coding tasks solved: 1/1   Items due: 0   next review ")
    assert "│ routing │      2/7 │     1 │      50% │" in result.output
    assert "│ serving │      0/1 │     0 │        - │" in result.output
    assert "│ 901 toy-routing │ solved │" in result.output


def test_progress_json(runner, toy_bank, unshuffled):
    _pass(901)
    runner.invoke(cli, ["start", "--topic", "toy", "--no-stub"], input="1\n3\nq\n")
    record_review(open_store(), 902, "serve-choice", 1, datetime.now(UTC) - timedelta(days=1))
    data = json.loads(runner.invoke(cli, ["progress", "--json"]).output)
    assert (data["solved"], data["tasks"], data["due_now"], data["review_cards"]) == (1, 1, 1, 3)
    assert data["next_due"] is not None
    topics = {t["topic"]: t for t in data["topics"]}
    assert topics["routing"] == {"topic": "routing", "items": 7, "answered": 2, "right": 1, "accuracy": 0.5}
    q901 = data["questions"][0]
    assert (q901["id"], q901["solved"], q901["answered"], q901["right"], q901["attempts"]) == (901, True, 2, 1, 1)


def test_times_are_shown_in_local_time(runner, toy_bank, monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+05:30, no daylight saving time
    time.tzset()
    try:
        record_review(open_store(), 902, "serve-choice", 3, datetime(2999, 1, 1, tzinfo=UTC))
        store = open_store()
        store.db["review_cards"].update((902, "serve-choice"), {"due": "2999-01-01T00:00:00+00:00"})
        assert runner.invoke(cli, ["review"]).output.startswith("Nothing is due. Next review: 2999-01-01 05:30 (in ")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_browsing_commands_do_not_import_torch(tmp_path):
    code = ("import sys; from click.testing import CliRunner; from quizgen.cli import cli; r = CliRunner(); "
            "[r.invoke(cli, a, input='q\\n') for a in (['list'], ['show', '52'], ['topics'], "
            "['start', '--topic', 'moe', '--no-stub'], ['review'], ['progress'], ['progress', '--json'], "
            "['hint', '52'], ['hint', '52', '--all'], ['solution', '52'], ['solution', '52', '--give-up'], "
            "['reset', '52', '--yes'])]; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"QUIZGEN_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}).stdout
    assert out.strip() == "False"
