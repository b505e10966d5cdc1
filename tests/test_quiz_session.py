"""`quiz start` on the toy bank, through the CLI: shuffled options with the order stored beside the
answer, the expected form of numbers, flashcards rated like Anki, design and spot-the-bug items."""

import itertools
import json
import random
import re

import pytest

from quizgen.cli import cli
from quizgen.quiz import session
from quizgen.store import open_store


@pytest.fixture
def seeded(monkeypatch):
    """Each presentation's order from its own seeded generator: random, but the same on every run."""
    seeds = itertools.count(1)
    monkeypatch.setattr(session, "presentation_rng", lambda: random.Random(next(seeds)))


def shown_options(output: str) -> list[str]:
    """The first list of options as printed (``  1. text``)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\s+1\. ", line))
    options = []
    for line in lines[start:]:
        match = re.match(r"\s+(\d+)\. (.*\S)", line)
        if not match:
            break
        options.append(match.group(2))
    return options


def test_options_are_shuffled_and_the_order_is_stored_beside_the_answer(runner, toy_bank, seeded):
    seen_orders = set()
    for _ in range(8):
        result = runner.invoke(cli, ["start", "--topic", "toy-serving", "--no-stub"], input="1\n")
        assert result.exit_code == 0, result.output
        options = shown_options(result.output)
        assert sorted(options) == ["The KV cache", "The vocabulary", "The weights"]
        answer = open_store().concept_answers(902)[-1]
        order = json.loads(answer["shown_order"])
        item = toy_bank.get(902).concepts[0]
        assert [item.options[i].text for i in order] == options  # the stored order is the one shown
        assert json.loads(answer["chosen"]) == [options[0]]  # and the text of what "1" picked
        assert answer["correct"] == (options[0] == "The KV cache")
        seen_orders.add(tuple(order))
    assert len(seen_orders) > 1


def test_always_answering_1_scores_at_chance_over_many_sessions(runner, toy_bank, seeded):
    sessions = 40
    for _ in range(sessions):
        result = runner.invoke(cli, ["start", "--topic", "toy", "--no-stub"], input="1\n" * 20)
        assert result.exit_code == 0, result.output
    answers = open_store().concept_answers()
    choice = [a for a in answers if a["kind"] == "choice"]
    assert len(choice) == 2 * sessions
    right = sum(a["correct"] for a in choice)
    # a 4-option and a 3-option item: 1/4 + 1/3 of 40 sessions is 23 right (standard deviation 4);
    # before shuffling, typing 1 got all 80 right
    assert 11 <= right <= 36, right
    texts = {tuple(json.loads(a["chosen"])) for a in choice if a["item_id"] == "pick-one"}
    assert len(texts) >= 3  # "1" picked different options in different sessions


def test_numeric_prompts_say_what_form_is_expected(runner, toy_bank, seeded):
    result = runner.invoke(cli, ["start", "--topic", "toy", "--no-stub"], input="1\n1\n14.0\n1e3\n16\nq\n")
    lines = result.output.splitlines()
    assert "Expected: a number in GB; within 0.5% counts (3 significant figures are enough)." in lines
    assert "Expected: an exact whole number in blocks." in lines
    assert "Not quite. The answer: 16 blocks" in lines
    numeric = [a for a in open_store().concept_answers(901) if a["kind"] == "numeric"]
    assert [(a["item_id"], a["response"], a["correct"]) for a in numeric] == [("memory", "14", 1), ("count", "1000", 0)]


def test_flashcards_design_and_bug_items(runner, toy_bank, seeded):
    typed = "1\n1\n14\n16\n" + "\n2\n" + "Top-2 with a balancing loss\n1, 2,3\n" + "2\n"
    result = runner.invoke(cli, ["start", "--topic", "toy-routing", "--no-stub"], input=typed)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # flashcard: the answer after Enter, then the user's own rating
    assert "The load over experts: ∑ᵢ fᵢ Pᵢ is smallest when routing is uniform." in lines
    assert "Rated Hard." in lines
    # design: the model answer, the rubric, the points covered as a rating
    assert "Top-2 routing with an auxiliary loss α N ∑ᵢ fᵢ Pᵢ and capacity limits." in lines
    assert "  3. Expert capacity and dropped tokens" in [line.rstrip() for line in lines]
    assert "You covered 3 of 4 points: rated Good." in lines
    # spot the bug: numbered lines, then the line named
    assert "  2     probs = logits.softmax(dim=0)" in lines
    assert lines[lines.index("  4     return top") + 1].startswith("Which line has the bug? (1-4): 2")
    answers = {a["item_id"]: a for a in open_store().concept_answers(901)}
    assert (answers["recall"]["rating"], answers["recall"]["correct"]) == (2, 1)
    assert answers["design-router"]["response"] == "Top-2 with a balancing loss"
    assert json.loads(answers["design-router"]["chosen"]) == ["Top-k gating", "An auxiliary balancing loss",
                                                             "Expert capacity and dropped tokens"]
    assert answers["design-router"]["rating"] == 3
    assert (answers["find-bug"]["response"], answers["find-bug"]["correct"]) == ("line 2", 1)


def test_q_stops_anywhere_and_keeps_the_answers(runner, toy_bank, seeded):
    result = runner.invoke(cli, ["start", "--topic", "toy-routing", "--no-stub"], input="1\n1\n14\n16\nq\n")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "Stopped. Your answers so far are saved (`quiz progress`, `quiz review`)."
    assert len(open_store().concept_answers(901)) == 4
