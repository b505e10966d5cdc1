"""Spaced repetition: answers rate cards Again/Hard/Good/Easy for FSRS; wrong answers come back sooner."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from quizgen.cli import cli
from quizgen.quiz.scoring import Rating
from quizgen.review.scheduler import due_items, record_review, schedule
from quizgen.store import open_store

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_wrong_answers_are_due_sooner_than_right_ones():
    store = open_store()
    right = record_review(store, 52, "a", Rating.GOOD, NOW)
    wrong = record_review(store, 52, "b", Rating.AGAIN, NOW)
    assert wrong < right
    assert due_items(store, NOW + timedelta(minutes=2)) == [(52, "b")]
    assert len(list(store.db["review_log"].rows)) == 2


def test_the_four_ratings_give_four_intervals_once_a_card_is_known():
    store = open_store()
    due = {}
    for rating in Rating:
        item = f"item-{rating.name}"
        first = record_review(store, 52, item, Rating.GOOD, NOW)
        first = record_review(store, 52, item, Rating.GOOD, first)
        due[rating] = record_review(store, 52, item, rating, first) - first
    assert due[Rating.AGAIN] < due[Rating.HARD] < due[Rating.GOOD] < due[Rating.EASY]
    logged = [row["rating"] for row in store.db["review_log"].rows_where(order_by="id")][2::3]
    assert logged == [1, 2, 3, 4]


def test_a_bool_is_not_a_rating():
    with pytest.raises(TypeError, match="a review rating is 1, 2, 3 or 4"):
        record_review(open_store(), 52, "a", True, NOW)


def test_schedule_counts_due_cards_and_finds_the_next():
    store = open_store()
    record_review(store, 52, "soon", Rating.AGAIN, NOW)
    record_review(store, 52, "later", Rating.EASY, NOW)
    now = NOW + timedelta(minutes=5)
    when = schedule(store, now)
    assert (when.due_now, when.cards) == (1, 2) and when.next_due > now
    assert schedule(store, now, keys={(52, "later")}).due_now == 0


def test_review_says_how_many_are_due_asks_them_and_reschedules(runner, toy_bank, monkeypatch):
    store = open_store()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    record_review(store, 901, "recall", Rating.AGAIN, yesterday)
    record_review(store, 902, "serve-choice", Rating.AGAIN, yesterday + timedelta(minutes=1))
    record_review(store, 901, "count", Rating.EASY, datetime.now(UTC))
    from quizgen.quiz import session

    class InOrder:
        def sample(self, population, k):
            return list(population)[:k]

    monkeypatch.setattr(session, "presentation_rng", InOrder)
    # the most overdue first: recall (flashcard: Enter, then Easy), then serve-choice (right: option 1)
    result = runner.invoke(cli, ["review"], input="\n4\n1\n")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2 items due. Type q to stop; answers are saved as you go."
    assert "Rated Easy." in lines and "Right." in lines
    assert sum(line.startswith("Next review of this item: ") for line in lines) == 2
    assert "2 / 2 right." in lines
    assert lines[-1].startswith("Nothing else is due; next review ")
    assert due_items(open_store()) == []
    answers = {a["item_id"]: a for a in open_store().concept_answers()}
    assert answers["recall"]["rating"] == 4 and answers["serve-choice"]["rating"] == 3
    assert json.loads(answers["serve-choice"]["shown_order"]) == [0, 1, 2]


def test_review_with_nothing_due_says_when_the_next_one_is(runner, toy_bank):
    assert runner.invoke(cli, ["review"]).output.strip() == \
        "Nothing is due. Answer items with `quiz start --topic moe` first."
    record_review(open_store(), 902, "serve-choice", Rating.GOOD, datetime.now(UTC))
    output = runner.invoke(cli, ["review"]).output.strip()
    assert output.startswith("Nothing is due. Next review: 20") and output.endswith(" minutes).")


def test_review_stops_on_q_and_keeps_what_was_answered(runner, toy_bank):
    store = open_store()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    record_review(store, 901, "count", Rating.AGAIN, yesterday)
    record_review(store, 902, "serve-choice", Rating.AGAIN, yesterday + timedelta(minutes=1))
    result = runner.invoke(cli, ["review"], input="16\nq\n")
    assert "Stopped; what you answered is saved." in result.output
    assert "1 / 1 right." in result.output
    assert result.output.splitlines()[-1].startswith("1 still due; next review ")
    assert [a["item_id"] for a in open_store().concept_answers()] == ["count"]
