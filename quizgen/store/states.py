"""Each question's state for `quiz list` (attempted, solved, concept items answered, items due), read
with the standard library's sqlite3 in one read-only connection: no sqlite-utils, no migrations, and
no database created where there is none. A database too old or unreadable for these queries simply
gives no states; `quiz progress` (which opens the store properly) is where problems are reported.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from quizgen.paths import database_path


@dataclass(frozen=True)
class QuestionState:
    attempts: int = 0
    solved: bool = False
    answered: int = 0  # distinct concept items answered at least once
    due: int = 0  # review cards due now

    @property
    def label(self) -> str:
        """``solved``, ``attempted`` or ``-`` for the coding task."""
        return "solved" if self.solved else "attempted" if self.attempts else "-"


_QUERIES = {
    "attempts": "select question_id, count(*), max(all_passed) from attempts group by 1",
    "answered": "select question_id, count(distinct item_id) from concept_answers group by 1",
    "due": "select question_id, count(*) from review_cards where due <= ? group by 1",
}


def question_states(path: Path | None = None, now: datetime | None = None) -> dict[int, QuestionState]:
    """Question id -> its state, for the questions with anything recorded."""
    path = path or database_path()
    if not path.is_file():
        return {}
    now = now or datetime.now(UTC)
    facts: dict[int, dict] = {}
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            for qid, count, passed in conn.execute(_QUERIES["attempts"]):
                facts.setdefault(qid, {}).update(attempts=count, solved=bool(passed))
            for qid, count in conn.execute(_QUERIES["answered"]):
                facts.setdefault(qid, {})["answered"] = count
            for qid, count in conn.execute(_QUERIES["due"], [now.isoformat()]):
                facts.setdefault(qid, {})["due"] = count
        finally:
            conn.close()
    except sqlite3.Error:
        return {}
    return {qid: QuestionState(**values) for qid, values in facts.items()}
