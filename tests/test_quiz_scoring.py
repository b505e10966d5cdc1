"""Scoring one answer: shuffled options mapped back to the file, numbers by relative tolerance, and the
FSRS rating each kind of item earns."""

import random

import pytest

from quizgen.bank.models import (
    BugItem,
    ChoiceItem,
    DesignItem,
    FlashcardItem,
    MultiItem,
    NumericItem,
)
from quizgen.quiz.scoring import (
    Rating,
    parse_number,
    score_bug,
    score_choice,
    score_design,
    score_flashcard,
    score_multi,
    score_numeric,
    shuffled_order,
)

CHOICE = ChoiceItem(id="c", kind="choice", prompt="p", explanation="e",
                    options=[{"text": "right", "correct": True}, {"text": "b"}, {"text": "c"}, {"text": "d"}])
MULTI = MultiItem(id="m", kind="multi", prompt="p", explanation="e",
                  options=[{"text": "r1", "correct": True}, {"text": "r2", "correct": True}, {"text": "w"}])


def numeric(**fields) -> NumericItem:
    return NumericItem(id="n", kind="numeric", prompt="p", explanation="e", **fields)


def test_a_choice_is_scored_by_the_order_shown():
    order = (2, 0, 3, 1)  # shown: c, right, d, b
    verdict = score_choice(CHOICE, "2", order)
    assert verdict.correct and verdict.rating == Rating.GOOD
    assert (verdict.response, verdict.chosen, verdict.right_numbers) == ("2", ("right",), (2,))
    assert verdict.shown_order == order
    wrong = score_choice(CHOICE, "1", order)
    assert not wrong.correct and wrong.rating == Rating.AGAIN and wrong.chosen == ("c",) and wrong.expected == "right"


def test_a_multi_select_needs_exactly_the_right_options_in_the_order_shown():
    order = (2, 1, 0)  # shown: w, r2, r1
    assert score_multi(MULTI, "3, 2", order).correct
    assert score_multi(MULTI, "2 3", order).chosen == ("r2", "r1")
    assert not score_multi(MULTI, "1,2,3", order).correct
    assert not score_multi(MULTI, "1,2", order).correct


@pytest.mark.parametrize("text, message", [
    ("", "type a number from 1 to 4"),
    ("x", "'x' is not an option: type a number from 1 to 4"),
    ("5", "'5' is not an option: type a number from 1 to 4"),
    ("1,2", "pick exactly one option"),
])
def test_unreadable_choices_say_what_to_type(text, message):
    with pytest.raises(ValueError) as caught:
        score_choice(CHOICE, text, (0, 1, 2, 3))
    assert str(caught.value) == message


def test_a_fresh_order_is_a_permutation_and_varies():
    rng = random.Random(1)
    orders = {shuffled_order(4, rng) for _ in range(50)}
    assert all(sorted(o) == [0, 1, 2, 3] for o in orders) and len(orders) > 10


def test_always_typing_1_is_right_about_one_time_in_four():
    rng = random.Random(20260101)
    right = sum(score_choice(CHOICE, "1", shuffled_order(4, rng)).correct for _ in range(2000))
    assert 420 < right < 580  # 500 expected; the binomial's standard deviation is about 19


def test_numbers_are_right_within_the_relative_tolerance():
    item = numeric(answer=2.8013)
    for typed in ("2.80", "2.8", "2.8013", "2.81"):
        assert score_numeric(item, typed).correct, typed
    for typed in ("2.78", "2.9", "28"):
        assert not score_numeric(item, typed).correct, typed
    assert score_numeric(numeric(answer=3.3616), "3.36").correct


def test_counts_are_exact():
    item = numeric(answer=4096, exact=True, unit="bytes")
    assert score_numeric(item, "4096").correct and score_numeric(item, "4,096 bytes").correct
    assert not score_numeric(item, "4095").correct and not score_numeric(item, "4100").correct
    assert score_numeric(item, "4100").expected == "4096 bytes"
    assert item.expected_form == "an exact whole number in bytes"


def test_numbers_are_read_as_people_type_them():
    assert parse_number("1e9") == 1e9 and parse_number("27.7%") == 27.7 and parse_number("12 GB", "GB") == 12
    with pytest.raises(ValueError) as caught:
        parse_number("twelve")
    assert str(caught.value) == "'twelve' is not a number (examples: 0.5, 1e9, 4096)"


@pytest.mark.parametrize("typed, rating", [("1", Rating.AGAIN), ("again", Rating.AGAIN), ("h", Rating.HARD),
                                           ("3", Rating.GOOD), ("Good", Rating.GOOD), ("4", Rating.EASY),
                                           ("e", Rating.EASY)])
def test_flashcards_are_rated_like_anki(typed, rating):
    item = FlashcardItem(id="f", kind="flashcard", prompt="p", answer="a", explanation="e")
    verdict = score_flashcard(item, typed)
    assert verdict.rating == rating and verdict.correct == (rating >= Rating.HARD)
    with pytest.raises(ValueError) as caught:
        score_flashcard(item, "y")
    assert str(caught.value) == "type 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy)"


def test_a_bug_is_found_on_its_line_or_an_accepted_neighbour():
    item = BugItem(id="b", kind="spot-the-bug", prompt="p", explanation="e", code="a\nb\nc\nd\n", bug_line=2,
                   also_accept=[3])
    assert score_bug(item, "2").correct and score_bug(item, "line 3").correct and score_bug(item, "L2").correct
    wrong = score_bug(item, "4")
    assert not wrong.correct and wrong.expected == "line 2 or 3" and wrong.chosen == ("d",)
    with pytest.raises(ValueError) as caught:
        score_bug(item, "9")
    assert str(caught.value) == "'9' is not a line of the snippet: type a number from 1 to 4"


@pytest.mark.parametrize("ticked, rating", [("", Rating.AGAIN), ("1", Rating.AGAIN), ("1,2", Rating.HARD),
                                            ("1 2 3", Rating.GOOD), ("all", Rating.EASY), ("4,3,2,1", Rating.EASY)])
def test_design_answers_are_rated_by_the_rubric_points_covered(ticked, rating):
    item = DesignItem(id="d", kind="design", prompt="p", answer="model", explanation="e",
                      rubric=["one", "two", "three", "four"])
    verdict = score_design(item, "my answer", ticked)
    assert verdict.rating == rating and verdict.response == "my answer"
    assert len(verdict.chosen) == {"": 0, "all": 4}.get(ticked, len(ticked.replace(",", " ").split()))
