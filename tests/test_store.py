"""The progress database: migrations, a corrupt file moved aside (never lost), concurrent writers."""

import json
import multiprocessing
import sqlite3
from datetime import UTC, datetime, timedelta

from _study_fixtures import insert_attempt
from sqlite_utils import Database

from quizgen.cli import cli
from quizgen.paths import database_path
from quizgen.store import open_store
from quizgen.store.migrations import migrations
from quizgen.store.states import QuestionState, question_states


def test_migrations_are_recorded_and_not_reapplied():
    store = open_store()
    applied = [m.name for m in migrations.applied(store.db)]
    assert applied == ["m001_initial", "m002_review", "m003_presentation_and_solutions"]
    assert open_store().db.journal_mode == "wal"
    assert [m.name for m in migrations.applied(open_store().db)] == applied


def test_a_database_of_the_previous_schema_is_upgraded_keeping_its_answers():
    old = Database(database_path())
    migrations.apply(old, stop_before="m003_presentation_and_solutions")
    old["concept_answers"].insert({"question_id": 52, "item_id": "a", "kind": "choice", "response": "1",
                                   "correct": True, "created_at": "2025-01-01T00:00:00+00:00"})
    old.close()
    store = open_store()
    [row] = store.concept_answers(52)
    assert (row["response"], row["shown_order"], row["chosen"], row["rating"]) == ("1", None, None, None)
    store.record_concept_answer(52, "b", "choice", "2", False, shown_order=(2, 0, 1), chosen=("text",), rating=1)
    row = store.concept_answers(52)[-1]
    assert (json.loads(row["shown_order"]), json.loads(row["chosen"]), row["rating"]) == ([2, 0, 1], ["text"], 1)


def test_reset_deletes_one_questions_rows_in_every_table():
    from quizgen.review.scheduler import record_review

    store = open_store()
    for qid in (52, 53):
        insert_attempt(store, qid)
        store.record_concept_answer(qid, "a", "choice", "1", True)
        store.record_hint(qid, 0)
        store.record_solution_shown(qid, "passed")
        record_review(store, qid, "a", 3)
    assert store.reset_question(52) == {"attempts": 1, "concept_answers": 1, "hints_used": 1, "review_cards": 1,
                                        "review_log": 1, "solutions_shown": 1}
    assert set(store.question_rows(52).values()) == {0} and set(store.question_rows(53).values()) == {1}


def test_question_states_read_without_creating_anything(quizgen_home):
    assert question_states() == {}
    assert not database_path().exists()
    store = open_store()
    insert_attempt(store, 52, score=10)
    insert_attempt(store, 52)
    insert_attempt(store, 53, score=10)
    store.record_concept_answer(54, "a", "choice", "1", True)
    store.record_concept_answer(54, "a", "choice", "1", True)
    store.db["review_cards"].insert({"question_id": 54, "item_id": "a", "card": "{}",
                                     "due": (datetime.now(UTC) - timedelta(hours=1)).isoformat()})
    states = question_states()
    assert states[52] == QuestionState(attempts=2, solved=True)
    assert states[53].label == "attempted" and states[54] == QuestionState(answered=1, due=1)


def test_question_states_of_a_file_that_is_not_a_database_are_empty():
    database_path().write_bytes(b"not a database" * 100)
    assert question_states() == {}


def test_corrupt_database_is_moved_aside_with_a_notice(runner):
    path = database_path()
    path.write_bytes(b"this is not a database" * 100)
    result = runner.invoke(cli, ["progress"])
    assert result.exit_code == 0, result.output
    assert "was not a readable database" in result.output and "moved to" in result.output
    kept = list(path.parent.glob("progress.db.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"this is not a database" * 100
    assert open_store().concept_answers() == []


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
