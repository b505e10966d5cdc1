"""Spaced repetition: answers schedule cards; wrong answers come back sooner than right ones."""

from datetime import datetime, timedelta, timezone

from quizgen.cli import cli
from quizgen.review.scheduler import due_items, record_review
from quizgen.store import open_store


def test_wrong_answers_are_due_sooner_than_right_ones():
    store = open_store()
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    right = record_review(store, 52, "a", True, now)
    wrong = record_review(store, 52, "b", False, now)
    assert wrong < right
    assert due_items(store, now + timedelta(minutes=2)) == [(52, "b")]
    assert len(list(store.db["review_log"].rows)) == 2


def test_review_asks_due_items_and_reschedules(runner, bank, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    item = bank.get(52).concepts[0]
    store = open_store()
    record_review(store, 52, item.id, False, datetime.now(timezone.utc) - timedelta(days=1))
    right = ",".join(str(i) for i, o in enumerate(item.options, 1) if o.correct)
    result = runner.invoke(cli, ["review"], input=f"{right}\n")
    assert result.exit_code == 0, result.output
    assert "1 / 1 right" in result.output and "next review" in result.output
    assert due_items(open_store()) == []


def test_review_with_nothing_due(runner):
    assert "Nothing is due" in runner.invoke(cli, ["review"]).output
