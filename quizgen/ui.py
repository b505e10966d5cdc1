"""Terminal rendering with rich for browsing and studying: question tables, questions, progress, hints
and solutions. Question text goes through ``quizgen.prose`` (Markdown, formulas as Unicode)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # the models cost a pydantic import that `quiz list` avoids
    from quizgen.bank.models import Bank, Question
    from quizgen.quiz.progress import Overview
    from quizgen.store.states import QuestionState


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def questions_table(questions: list[dict], states: dict[int, QuestionState]) -> Table:
    """``questions`` as made by quizgen.bank.index.question_summaries; ``states`` by quizgen.store.states."""
    table = Table(title="quizgen: questions", title_justify="left")
    table.add_column("id", justify="right")
    table.add_column("slug", no_wrap=True)
    table.add_column("question", ratio=1)
    table.add_column("difficulty", no_wrap=True)
    table.add_column("task", no_wrap=True)
    table.add_column("items", justify="right", no_wrap=True)
    table.add_column("due", justify="right", no_wrap=True)
    for q in questions:
        state = states.get(q["id"])
        task = "-" if state is None else state.label
        task_cell = Text(task, style="green" if task == "solved" else "yellow" if task == "attempted" else "dim")
        answered = state.answered if state else 0
        due = state.due if state else 0
        table.add_row(str(q["id"]), q["slug"], escape(q["title"]), q["difficulty"], task_cell,
                      f"{answered}/{q['concepts']}", Text(str(due), style="bold" if due else "dim"))
    table.caption = "task: coding task · items: concept items answered · due: items to review now"
    return table


def topics_table(bank: Bank) -> Table:
    table = Table(title="quizgen: topics", title_justify="left")
    table.add_column("topic")
    table.add_column("questions")
    for topic, ids in sorted(bank.topics().items()):
        table.add_row(topic, ", ".join(map(str, ids)))
    return table


def show_question(out: Console, q: Question) -> None:
    from quizgen.prose import markdown

    out.print(f"[bold]Question {q.id}: {escape(q.title)}[/bold]")
    out.print(f"[dim]slug {q.slug} · topics {', '.join(q.topics)} · {q.difficulty}[/dim]\n")
    if q.answer:
        out.print(markdown(q.answer))
    if q.pitfalls:
        out.print("\n[bold]Pitfalls[/bold]")
        for p in q.pitfalls:
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column(ratio=1)
            grid.add_row(Text("✗", style="red"), markdown(p.claim))
            grid.add_row(Text("→", style="green"), markdown(p.correction))
            out.print(grid)
    if q.references:
        out.print("\n[bold]References[/bold]")
        for r in q.references:
            out.print(f"  {escape(r.authors)} ({r.year}). {escape(r.title)}. {r.url}")
    if q.coding:
        out.print(f"\n[bold]Coding task[/bold]: write {', '.join(f + '()' for f in q.coding.functions)} "
                  f"— `quiz stub {q.id}` writes the stub, `quiz submit {q.coding.stub_file}` grades it.")
    out.print(f"[dim]{len(q.concepts)} concept items: `quiz start --topic {q.id}`[/dim]")


def hint_view(question_id: int, hints: list[str], n: int) -> Group:
    """Hint ``n`` (from 1) of ``hints``, headed ``Hint 2/3 for question 52:``."""
    from quizgen.prose import markdown

    return Group(Text(f"Hint {n}/{len(hints)} for question {question_id}:", style="bold"), markdown(hints[n - 1]))


def hints_view(question_id: int, hints: list[str], shown: int) -> Group:
    """Hints 1..``shown`` of ``hints``."""
    return Group(*(hint_view(question_id, hints, n) for n in range(1, shown + 1)))


def solution_view(title: str, source: str):
    from rich.syntax import Syntax

    return Group(Text(title, style="bold"),
                 Syntax(source, "python", line_numbers=True, theme="ansi_dark", background_color="default"))


def _percent(right: int, answered: int) -> str:
    return f"{100 * right / answered:.0f}%" if answered else "-"


def progress_view(overview: Overview) -> Group:
    from quizgen.times import format_due

    head = Text.assemble(("Coding tasks solved: ", "bold"), f"{overview.solved}/{overview.tasks}", "   ",
                         ("Items due: ", "bold"), str(overview.due_now))
    if overview.next_due:
        head.append(f"   next review {format_due(overview.next_due)}", style="dim")
    topics = Table(title="Concept accuracy by topic (latest answer per item)", title_justify="left")
    for col, justify in (("topic", "left"), ("answered", "right"), ("right", "right"), ("accuracy", "right")):
        topics.add_column(col, justify=justify)
    for t in overview.topics:
        topics.add_row(t.topic, f"{t.answered}/{t.items}", str(t.right), _percent(t.right, t.answered))
    questions = Table(title="Questions", title_justify="left")
    for col in ("question", "task", "attempts", "best score", "hints", "items", "right", "due"):
        questions.add_column(col, justify="left" if col in ("question", "task") else "right", no_wrap=True)
    for q in overview.questions:
        task = ("solved" if q.solved else "gave up" if q.gave_up else "attempted" if q.attempts else "-") \
            if q.has_task else "(none)"
        best = "-" if q.best_score is None else f"{q.best_score:g}/{q.max_score:g}"
        questions.add_row(f"{q.id} {q.slug}", task, str(q.attempts), best, str(q.hints_used),
                          f"{q.answered}/{q.items}", str(q.right), str(q.due))
    return Group(head, Text(""), topics, questions)
