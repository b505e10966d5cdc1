"""The schema's whole history. Add a function at the bottom; never edit one that has shipped."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("quizgen")


@migrations()
def m001_initial(db: Database) -> None:
    db["attempts"].create({
        "id": int, "question_id": int, "file": str, "file_sha256": str, "score": float, "max_score": float,
        "all_passed": bool, "tests": str, "device": str, "isolation": str, "seed": int, "duration_s": float,
        "created_at": str,
    }, pk="id")
    db["attempts"].create_index(["question_id"])
    db["concept_answers"].create({
        "id": int, "question_id": int, "item_id": str, "kind": str, "response": str, "correct": bool,
        "created_at": str,
    }, pk="id")
    db["concept_answers"].create_index(["question_id", "item_id"])
    db["hints_used"].create({"id": int, "question_id": int, "hint_index": int, "created_at": str}, pk="id")


@migrations()
def m002_review(db: Database) -> None:
    db["review_cards"].create({"question_id": int, "item_id": str, "card": str, "due": str},
                              pk=("question_id", "item_id"))
    db["review_log"].create({"id": int, "question_id": int, "item_id": str, "rating": int, "review": str,
                             "reviewed_at": str}, pk="id")


@migrations()
def m003_presentation_and_solutions(db: Database) -> None:
    # What was shown and chosen, beside each answer: the options' order (their indices in the question
    # file, as JSON), the texts picked (options, or the rubric points covered), the review rating given.
    db["concept_answers"].add_column("shown_order", str)
    db["concept_answers"].add_column("chosen", str)
    db["concept_answers"].add_column("rating", int)
    # Each time a reference solution was shown: after a pass, or on giving up (`quiz solution N --give-up`).
    db["solutions_shown"].create({"id": int, "question_id": int, "reason": str, "created_at": str}, pk="id")
    db["solutions_shown"].create_index(["question_id"])
    db["review_cards"].create_index(["due"])
