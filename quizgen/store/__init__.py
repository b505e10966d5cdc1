"""Progress in SQLite through sqlite-utils: attempts, concept answers, hints used, review cards."""

from quizgen.store.db import Store, open_store

__all__ = ["Store", "open_store"]
