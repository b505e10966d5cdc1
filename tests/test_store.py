"""The progress database: migrations, a corrupt file moved aside (never lost), concurrent writers."""

import multiprocessing
import sqlite3

from quizgen.cli import cli
from quizgen.paths import database_path
from quizgen.store import open_store
from quizgen.store.migrations import migrations


def test_migrations_are_recorded_and_not_reapplied():
    store = open_store()
    applied = [m.name for m in migrations.applied(store.db)]
    assert applied == ["m001_initial", "m002_review"]
    assert open_store().db.journal_mode == "wal"
    assert [m.name for m in migrations.applied(open_store().db)] == applied


def test_corrupt_database_is_moved_aside_with_a_notice(runner):
    path = database_path()
    path.write_bytes(b"this is not a database" * 100)
    result = runner.invoke(cli, ["progress"])
    assert result.exit_code == 0, result.output
    assert "was not a readable database" in result.output and "moved to" in result.output
    kept = list(path.parent.glob("progress.db.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"this is not a database" * 100
    assert open_store().summary() == []


def _write_answers(n: int) -> None:
    store = open_store()
    for i in range(n):
        store.record_concept_answer(52, f"item-{i}", "choice", "1", True)


def test_two_processes_writing_at_once_lose_nothing():
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_answers, args=(50,)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    assert len(open_store().concept_answers(52)) == 100


def test_a_locked_database_waits_instead_of_failing():
    open_store()
    holder = sqlite3.connect(database_path())
    holder.execute("begin immediate")
    ctx = multiprocessing.get_context("spawn")
    writer = ctx.Process(target=_write_answers, args=(1,))
    writer.start()
    writer.join(1.0)
    assert writer.is_alive(), "the writer should wait for the lock"
    holder.rollback()
    holder.close()
    writer.join(30)
    assert writer.exitcode == 0
    assert len(open_store().concept_answers(52)) == 1
