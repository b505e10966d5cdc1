"""FSRS scheduling on top of the store: one card per concept item, an append-only review log.

Every answer rates the item's card Again, Hard, Good or Easy (``quizgen.quiz.scoring`` says which:
flashcards by the user, as in Anki; choice, numeric and spot-the-bug items Good when right and Again
when wrong; design items by the rubric points covered), so the items a user gets wrong come back
soon and the ones they know drift out to weeks and months.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from fsrs import Card, Rating, Scheduler
from sqlite_utils.db import NotFoundError

from quizgen.store.db import Store

_SCHEDULER = Scheduler(enable_fuzzing=False)


def record_review(store: Store, question_id: int, item_id: str, rating: int,
                  now: datetime | None = None) -> datetime:
    """Rate the item's card (1 Again, 2 Hard, 3 Good, 4 Easy); returns when it is next due."""
    if isinstance(rating, bool) or int(rating) not in (1, 2, 3, 4):
        raise TypeError(f"a review rating is 1, 2, 3 or 4 (Again, Hard, Good, Easy), not {rating!r}")
    now = now or datetime.now(UTC)
    try:
        card = Card.from_dict(json.loads(store.db["review_cards"].get((question_id, item_id))["card"]))
    except NotFoundError:
        card = Card()
    card, log = _SCHEDULER.review_card(card, Rating(int(rating)), review_datetime=now)
    with store.db.atomic():
        store.db["review_cards"].upsert({"question_id": question_id, "item_id": item_id,
                                         "card": json.dumps(card.to_dict()), "due": card.due.isoformat()},
                                        pk=("question_id", "item_id"))
        store.db["review_log"].insert({"question_id": question_id, "item_id": item_id, "rating": int(log.rating),
                                       "review": json.dumps(log.to_dict()), "reviewed_at": now.isoformat()})
    return card.due


def due_items(store: Store, now: datetime | None = None) -> list[tuple[int, str]]:
    """(question id, item id) of every card due by ``now``, most overdue first."""
    now = now or datetime.now(UTC)
    rows = store.db.execute("select question_id, item_id from review_cards where due <= ? order by due",
                            [now.isoformat()]).fetchall()
    return [(q, i) for q, i in rows]


@dataclass(frozen=True)
class Schedule:
    """How the review cards stand: how many are due now, how many exist, when the next one comes."""

    due_now: int
    cards: int
    next_due: datetime | None  # the earliest card not yet due


def schedule(store: Store, now: datetime | None = None, keys: set[tuple[int, str]] | None = None) -> Schedule:
    """The schedule of all cards, or of those whose (question id, item id) is in ``keys``."""
    now = now or datetime.now(UTC)
    rows = [(q, i, due) for q, i, due in store.db.execute("select question_id, item_id, due from review_cards")
            if keys is None or (q, i) in keys]
    later = sorted(due for _, _, due in rows if due > now.isoformat())
    return Schedule(due_now=len(rows) - len(later), cards=len(rows),
                    next_due=datetime.fromisoformat(later[0]) if later else None)
