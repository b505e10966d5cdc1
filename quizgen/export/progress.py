"""The user's own state, per question, as the study sheet shows it: read once from the Store.

Only reads. A row the sheet cannot interpret (a ``tests`` column that is not JSON, a date that does
not parse) is shown as best it can be rather than failing the export.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from quizgen.times import parse_time

NOT_FAILING = ("passed", "skipped")


@dataclass(frozen=True)
class FailingTest:
    name: str
    status: str
    message: str


@dataclass(frozen=True)
class AttemptSummary:
    id: int
    score: float
    max_score: float
    all_passed: bool
    created_at: str
    failing: tuple[FailingTest, ...]


@dataclass(frozen=True)
class ItemRecord:
    """A concept item's answers: the latest verdict and response, and how often it was answered wrongly.

    ``response`` is what the user answered as the sheet shows it: the chosen options' texts where the
    answer picked options (the numbers typed depend on the shuffled order, so they mean nothing later).
    """

    item_id: str
    correct: bool
    response: str
    times_answered: int
    times_wrong: int


@dataclass(frozen=True)
class ReviewCard:
    item_id: str
    due: datetime | None
    due_now: bool


@dataclass
class QuestionProgress:
    attempts: int = 0
    best: AttemptSummary | None = None
    latest: AttemptSummary | None = None
    items: dict[str, ItemRecord] = field(default_factory=dict)
    reviews: list[ReviewCard] = field(default_factory=list)

    @property
    def wrong_items(self) -> list[ItemRecord]:
        """Items whose most recent answer was wrong."""
        return [r for r in self.items.values() if not r.correct]

    @property
    def due_now(self) -> list[ReviewCard]:
        return [c for c in self.reviews if c.due_now]

    @property
    def next_due(self) -> datetime | None:
        later = [c.due for c in self.reviews if not c.due_now and c.due is not None]
        return min(later) if later else None

    @property
    def empty(self) -> bool:
        return not (self.attempts or self.items or self.reviews)


def _failing_tests(tests_json: str | None) -> tuple[FailingTest, ...]:
    try:
        tests = json.loads(tests_json or "[]")
    except (TypeError, ValueError):
        return (FailingTest("(results unreadable)", "unknown", "this attempt's per-test results are not valid JSON"),)
    return tuple(FailingTest(str(t.get("name", "?")), str(t.get("status", "?")), str(t.get("message") or ""))
                 for t in tests if isinstance(t, dict) and t.get("status") not in NOT_FAILING)


def _summary(row: dict) -> AttemptSummary:
    return AttemptSummary(id=row["id"], score=row["score"] or 0.0, max_score=row["max_score"] or 0.0,
                          all_passed=bool(row["all_passed"]), created_at=row["created_at"] or "",
                          failing=_failing_tests(row["tests"]))


def _shown_response(row: dict) -> str:
    if row.get("kind") in ("choice", "multi") and row.get("chosen"):
        try:
            chosen = json.loads(row["chosen"])
        except (TypeError, ValueError):
            chosen = None
        if isinstance(chosen, list) and chosen:
            return " · ".join(str(c) for c in chosen)
    return str(row["response"] or "")


def load_progress(store, question_ids: Iterable[int], now: datetime | None = None) -> dict[int, QuestionProgress]:
    """Each question's best and latest attempt, concept answers and review cards, from ``store``."""
    now = now or datetime.now(UTC)
    wanted = set(question_ids)
    progress = {qid: QuestionProgress() for qid in wanted}

    for row in store.attempts():  # in id order: the last row seen per question is the latest
        p = progress.get(row["question_id"])
        if p is None:
            continue
        p.attempts += 1
        p.latest = _summary(row)
        if p.best is None or (row["score"] or 0.0) >= p.best.score:  # ties: the later attempt, as best_attempt()
            p.best = p.latest

    for row in store.concept_answers():
        p = progress.get(row["question_id"])
        if p is None:
            continue
        before = p.items.get(row["item_id"])
        correct = bool(row["correct"])
        p.items[row["item_id"]] = ItemRecord(
            item_id=row["item_id"], correct=correct, response=_shown_response(row),
            times_answered=(before.times_answered if before else 0) + 1,
            times_wrong=(before.times_wrong if before else 0) + (not correct))

    cards = store.db["review_cards"]
    if cards.exists():
        for row in cards.rows_where(order_by="due"):
            p = progress.get(row["question_id"])
            if p is None:
                continue
            due = parse_time(row["due"])
            p.reviews.append(ReviewCard(item_id=row["item_id"], due=due, due_now=due is None or due <= now))
    return progress
