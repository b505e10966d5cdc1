"""Opening the database safely, and the few reads and writes the rest of quizgen needs.

Two processes may write at once (two `quiz submit`, a batch run): WAL mode plus a busy timeout on
the sqlite3 connection handed to sqlite-utils. A file that is not a database is moved aside, never
overwritten, and the user is told where it went.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from quizgen.errors import StoreError
from quizgen.paths import database_path
from quizgen.store.migrations import migrations

BUSY_TIMEOUT_MS = 30_000
# Every table with a question_id column: one question's progress, as `quiz reset` clears it.
QUESTION_TABLES = ("attempts", "concept_answers", "hints_used", "review_cards", "review_log", "solutions_shown")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Store:
    db: Database
    path: Path
    notices: list[str] = field(default_factory=list)

    # -- writes ---------------------------------------------------------------------------------
    def record_attempt(self, report) -> int:
        row = {
            "question_id": report.question_id, "file": report.file, "file_sha256": report.file_sha256,
            "score": report.score, "max_score": report.max_score, "all_passed": report.all_passed,
            "tests": json.dumps([t.model_dump() for t in report.tests]), "device": report.device,
            "isolation": report.isolation, "seed": report.seed, "duration_s": round(report.seconds, 3),
            "created_at": now(),
        }
        with self.db.conn:
            return self.db["attempts"].insert(row).last_pk

    def record_concept_answer(self, question_id: int, item_id: str, kind: str, response: str, correct: bool, *,
                              shown_order: Sequence[int] = (), chosen: Sequence[str] = (),
                              rating: int | None = None) -> None:
        """One answer. ``shown_order``: the options' indices in the file, in the order they were shown;
        ``chosen``: the texts picked (options, or the rubric points covered); ``rating``: 1-4 as FSRS."""
        with self.db.conn:
            self.db["concept_answers"].insert({
                "question_id": question_id, "item_id": item_id, "kind": kind, "response": response,
                "correct": correct, "created_at": now(),
                "shown_order": json.dumps(list(shown_order)) if shown_order else None,
                "chosen": json.dumps(list(chosen)) if chosen else None,
                "rating": None if rating is None else int(rating),
            })

    def record_solution_shown(self, question_id: int, reason: str) -> None:
        """``reason``: 'passed' or 'gave-up'."""
        with self.db.conn:
            self.db["solutions_shown"].insert({"question_id": question_id, "reason": reason, "created_at": now()})

    def record_hint(self, question_id: int, hint_index: int) -> None:
        with self.db.conn:
            self.db["hints_used"].insert({"question_id": question_id, "hint_index": hint_index, "created_at": now()})

    # -- reads ----------------------------------------------------------------------------------
    def attempts(self, question_id: int | None = None) -> list[dict]:
        where, args = ("question_id = ?", [question_id]) if question_id is not None else (None, None)
        return list(self.db["attempts"].rows_where(where, args, order_by="id"))

    def best_attempt(self, question_id: int) -> dict | None:
        rows = list(self.db["attempts"].rows_where("question_id = ?", [question_id],
                                                   order_by="score desc, id desc", limit=1))
        return rows[0] if rows else None

    def concept_answers(self, question_id: int | None = None) -> list[dict]:
        where, args = ("question_id = ?", [question_id]) if question_id is not None else (None, None)
        return list(self.db["concept_answers"].rows_where(where, args, order_by="id"))

    def hints_used(self, question_id: int) -> int:
        rows = list(self.db.execute("select max(hint_index) from hints_used where question_id = ?", [question_id]))
        return 0 if rows[0][0] is None else rows[0][0] + 1

    def has_passed(self, question_id: int) -> bool:
        """Whether some attempt at the question's coding task passed every test."""
        return bool(self.db.execute("select max(all_passed) from attempts where question_id = ?",
                                    [question_id]).fetchone()[0])

    def gave_up(self, question_id: int) -> bool:
        """Whether the user asked to see the question's reference solution without a pass."""
        return self.db.execute("select count(*) from solutions_shown where question_id = ? and reason = 'gave-up'",
                               [question_id]).fetchone()[0] > 0

    def question_rows(self, question_id: int) -> dict[str, int]:
        """How many rows each table holds for the question: what `quiz reset` would delete."""
        count = "select count(*) from [{}] where question_id = ?"
        return {table: self.db.execute(count.format(table), [question_id]).fetchone()[0] for table in QUESTION_TABLES}

    def reset_question(self, question_id: int) -> dict[str, int]:
        """Delete everything recorded for the question (in one transaction); returns what was deleted."""
        with self.db.atomic():
            counts = self.question_rows(question_id)
            for table in QUESTION_TABLES:
                self.db[table].delete_where("question_id = ?", [question_id])
        return counts


@contextlib.contextmanager
def _setup_lock(path: Path):
    """An exclusive lock on a file beside the database while it is switched to WAL and migrated."""
    try:
        import fcntl
    except ImportError:  # Windows: SQLite's own locking has to do
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA quick_check").fetchall()  # raises DatabaseError on a file that is not a database
    return conn


def open_store(path: Path | None = None) -> Store:
    """Open (creating and migrating as needed) the progress database."""
    path = path or database_path()
    notices = []
    try:
        conn = _connect(path)
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if rows and rows[0][0] != "ok":
            raise sqlite3.DatabaseError(f"integrity check: {rows[0][0]}")
    except sqlite3.OperationalError as exc:
        raise StoreError(f"{path}: cannot open the progress database ({exc}); is another program holding it?") from None
    except sqlite3.DatabaseError as exc:
        aside = path.with_name(f"{path.name}.corrupt-{datetime.now().astimezone().strftime('%Y%m%d-%H%M%S')}")
        path.rename(aside)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(aside.with_name(aside.name + suffix))
        notices.append(f"{path} was not a readable database ({exc}); it was moved to {aside} untouched, "
                       "and a new one was started")
        conn = _connect(path)
    db = Database(conn)
    try:
        with _setup_lock(path):  # two processes creating the database at once would deadlock in SQLite
            if db.journal_mode != "wal":
                db.enable_wal()
            if migrations.pending(db):
                migrations.apply(db)
    except sqlite3.OperationalError as exc:
        raise StoreError(f"{path}: cannot prepare the progress database ({exc})") from None
    return Store(db, path, notices)
