"""What `quiz progress` shows: coding tasks solved out of all of them, concept accuracy per topic,
review items due, and a row per question. Built from the bank and the store; no terminal code here,
so the table and ``--json`` show the same numbers.

Concept accuracy counts each item once, by its latest answer: what the user knows now, not how
often they once got it wrong.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from quizgen.bank.models import Bank
from quizgen.review.scheduler import schedule
from quizgen.store.db import Store


@dataclass(frozen=True)
class QuestionRow:
    id: int
    slug: str
    has_task: bool
    attempts: int
    best_score: float | None
    max_score: float | None
    solved: bool
    gave_up: bool
    hints_used: int
    items: int  # concept items in the bank
    answered: int  # of them, answered at least once
    right: int  # of them, right at the latest answer
    due: int  # review cards due now


@dataclass(frozen=True)
class TopicRow:
    topic: str
    items: int
    answered: int
    right: int

    @property
    def accuracy(self) -> float | None:
        return self.right / self.answered if self.answered else None


@dataclass(frozen=True)
class Overview:
    solved: int
    tasks: int  # questions with a coding task
    due_now: int
    cards: int
    next_due: datetime | None
    topics: list[TopicRow]
    questions: list[QuestionRow]

    @property
    def empty(self) -> bool:
        return not any(q.attempts or q.answered or q.hints_used or q.gave_up for q in self.questions)

    def to_json(self) -> dict:
        return {
            "solved": self.solved, "tasks": self.tasks, "due_now": self.due_now, "review_cards": self.cards,
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "topics": [asdict(t) | {"accuracy": None if t.accuracy is None else round(t.accuracy, 4)}
                       for t in self.topics],
            "questions": [asdict(q) for q in self.questions],
        }


def _per_question(store: Store, sql: str) -> dict[int, tuple]:
    return {row[0]: row[1:] for row in store.db.execute(sql).fetchall()}


def build_overview(bank: Bank, store: Store, now: datetime | None = None) -> Overview:
    now = now or datetime.now(UTC)
    attempts = _per_question(store, "select question_id, count(*), max(score), max(max_score), max(all_passed) "
                                    "from attempts group by 1")
    hints = _per_question(store, "select question_id, max(hint_index) + 1 from hints_used group by 1")
    gave_up = _per_question(store, "select question_id, 1 from solutions_shown where reason = 'gave-up' group by 1")
    latest: dict[tuple[int, str], bool] = {}
    for qid, item_id, correct in store.db.execute(
            "select question_id, item_id, correct from concept_answers order by id"):
        latest[(qid, item_id)] = bool(correct)
    keys = {(q.id, i.id) for q in bank.questions for i in q.concepts}
    due_by_question: dict[int, int] = {}
    for qid, item_id in store.db.execute("select question_id, item_id from review_cards where due <= ?",
                                         [now.isoformat()]):
        if (qid, item_id) in keys:
            due_by_question[qid] = due_by_question.get(qid, 0) + 1

    rows = []
    for q in bank.questions:
        n, best, top, passed = attempts.get(q.id, (0, None, None, 0))
        answers = [latest[(q.id, i.id)] for i in q.concepts if (q.id, i.id) in latest]
        rows.append(QuestionRow(id=q.id, slug=q.slug, has_task=q.coding is not None, attempts=n, best_score=best,
                                max_score=top, solved=bool(passed), gave_up=q.id in gave_up,
                                hints_used=hints.get(q.id, (0,))[0], items=len(q.concepts), answered=len(answers),
                                right=sum(answers), due=due_by_question.get(q.id, 0)))

    topics = []
    for topic, ids in bank.topics().items():
        items = [(q.id, i.id) for q in bank.questions if q.id in ids for i in q.concepts]
        answered = [latest[key] for key in items if key in latest]
        topics.append(TopicRow(topic, len(items), len(answered), sum(answered)))

    when = schedule(store, now, keys)
    return Overview(solved=sum(r.solved for r in rows), tasks=sum(r.has_task for r in rows), due_now=when.due_now,
                    cards=when.cards, next_due=when.next_due, topics=topics, questions=rows)
