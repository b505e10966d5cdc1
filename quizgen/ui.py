"""Terminal rendering with rich for browsing and studying: question tables, questions, progress."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the models cost a pydantic import that `quiz list` avoids
    from quizgen.bank.models import Bank, Question


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def questions_table(questions: list[dict]) -> Table:
    """``questions`` as made by quizgen.bank.index.question_summaries."""
    table = Table(title="quizgen: questions", title_justify="left")
    table.add_column("id", justify="right")
    table.add_column("slug", no_wrap=True)
    table.add_column("question", ratio=1)
    table.add_column("difficulty", no_wrap=True)
    table.add_column("items", justify="right")
    for q in questions:
        table.add_row(str(q["id"]), q["slug"], escape(q["title"]), q["difficulty"], str(q["concepts"]))
    return table


def topics_table(bank: Bank) -> Table:
    table = Table(title="quizgen: topics", title_justify="left")
    table.add_column("topic")
    table.add_column("questions")
    for topic, ids in sorted(bank.topics().items()):
        table.add_row(topic, ", ".join(map(str, ids)))
    return table


def show_question(out: Console, q: Question) -> None:
    from rich.markdown import Markdown

    out.print(f"[bold]Question {q.id}: {escape(q.title)}[/bold]")
    out.print(f"[dim]slug {q.slug} · topics {', '.join(q.topics)} · {q.difficulty}[/dim]\n")
    if q.answer:
        out.print(Markdown(q.answer))
    if q.pitfalls:
        out.print("\n[bold]Pitfalls[/bold]")
        for p in q.pitfalls:
            out.print(f"  [red]✗[/red] {escape(p.claim)}\n    [green]→[/green] {escape(p.correction)}")
    if q.references:
        out.print("\n[bold]References[/bold]")
        for r in q.references:
            out.print(f"  {escape(r.authors)} ({r.year}). {escape(r.title)}. {r.url}")
    if q.coding:
        out.print(f"\n[bold]Coding task[/bold]: write {', '.join(f + '()' for f in q.coding.functions)} "
                  f"— `quiz stub {q.id}` writes the stub, `quiz submit {q.coding.stub_file}` grades it.")
    out.print(f"[dim]{len(q.concepts)} concept items: `quiz start --topic {q.slug}`[/dim]")


def progress_table(rows: list[dict], bank: Bank) -> Table:
    titles = {q.id: q.slug for q in bank.questions}
    table = Table(title="quizgen: your progress", title_justify="left")
    for col in ("question", "attempts", "best score", "solved", "concept answers", "right"):
        table.add_column(col)
    for r in rows:
        best = "-" if r["best_score"] is None else f"{r['best_score']:.1f}"
        table.add_row(f"{r['question_id']} {titles.get(r['question_id'], '')}", str(r["attempts"]), best,
                      "yes" if r["solved"] else "no", str(r["answers"]), str(r["correct"]))
    return table
