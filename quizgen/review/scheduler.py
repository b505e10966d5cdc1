"""FSRS scheduling on top of the store: one card per concept item, an append-only review log.

A right answer rates the card Good, a wrong one Again (flashcards: the user's own yes/no), so the
items a user gets wrong come back soon and the ones they know drift out to weeks and months.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from fsrs import Card, Rating, Scheduler
from sqlite_utils.db import NotFoundError

from quizgen.store.db import Store

_SCHEDULER = Scheduler(enable_fuzzing=False)


def record_review(store: Store, question_id: int, item_id: str, correct: bool,
                  now: datetime | None = None) -> datetime:
    """Update the item's card after an answer; returns when it is next due."""
    now = now or datetime.now(timezone.utc)
    try:
        card = Card.from_dict(json.loads(store.db["review_cards"].get((question_id, item_id))["card"]))
    except NotFoundError:
        card = Card()
    card, log = _SCHEDULER.review_card(card, Rating.Good if correct else Rating.Again, review_datetime=now)
    with store.db.conn:
        store.db["review_cards"].upsert({"question_id": question_id, "item_id": item_id,
                                         "card": json.dumps(card.to_dict()), "due": card.due.isoformat()},
                                        pk=("question_id", "item_id"))
        store.db["review_log"].insert({"question_id": question_id, "item_id": item_id, "rating": int(log.rating),
                                       "review": json.dumps(log.to_dict()), "reviewed_at": now.isoformat()})
    return card.due


def due_items(store: Store, now: datetime | None = None) -> list[tuple[int, str]]:
    """(question id, item id) of every card due by ``now``, most overdue first."""
    now = now or datetime.now(timezone.utc)
    rows = store.db.execute("select question_id, item_id from review_cards where due <= ? order by due",
                            [now.isoformat()]).fetchall()
    return [(q, i) for q, i in rows]


def next_due(store: Store) -> str | None:
    row = store.db.execute("select min(due) from review_cards").fetchone()
    return row[0] if row else None
