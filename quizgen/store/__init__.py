"""Progress in SQLite through sqlite-utils: attempts, concept answers, hints used, review cards.

Names load on first use, so that `quiz list` (which reads quizgen.store.states with the standard
library's sqlite3 only) skips sqlite-utils.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quizgen.store.db import Store, open_store

__all__ = ["Store", "open_store"]


def __getattr__(name: str):
    if name in __all__:
        from quizgen.store import db

        return getattr(db, name)
    raise AttributeError(name)
