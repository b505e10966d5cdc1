"""Commands for studying: browse, quiz, hints, review, progress, study sheets. None of them imports torch."""

from __future__ import annotations

import json
from pathlib import Path

import click

from quizgen.cli.base import UnusableInput, cli, console_out, load_bank_or_fail, open_store_or_fail, question_or_fail
from quizgen.errors import QuizgenError


@cli.command("list")
@click.option("--topic", help="Only questions with this topic slug (see `quiz topics`).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_questions(topic: str | None, as_json: bool) -> None:
    """List the questions. Example: quiz list --topic quantization"""
    from quizgen.bank.index import question_summaries

    try:
        questions = question_summaries()
    except QuizgenError as exc:
        raise click.ClickException(str(exc)) from None
    if topic:
        questions = [q for q in questions if topic in q["topics"] or topic == q["slug"]]
        if not questions:
            raise UnusableInput(f"no question has topic '{topic}'; see `quiz topics`")
    if as_json:
        click.echo(json.dumps(questions, indent=2))
        return
    from quizgen.ui import questions_table

    console_out().print(questions_table(questions))


@cli.command()
def topics() -> None:
    """List topic slugs with their questions. Example: quiz topics"""
    from quizgen.ui import topics_table

    console_out().print(topics_table(load_bank_or_fail()))


@cli.command()
@click.argument("question_id", type=int)
def show(question_id: int) -> None:
    """Show a question: corrected answer, pitfalls, references. Example: quiz show 52"""
    from quizgen.ui import show_question

    show_question(console_out(), question_or_fail(load_bank_or_fail(), question_id))


def _write_stub(question, path: Path | None, force: bool) -> Path:
    path = path or Path(question.coding.stub_file)
    if path.exists() and not force:
        raise UnusableInput(f"{path} already exists; not overwritten (use --force, or -o another name)")
    path.write_text(question.coding.stub, encoding="utf-8")
    return path


@cli.command()
@click.argument("question_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the stub.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def stub(question_id: int, output: Path | None, force: bool) -> None:
    """Write a question's coding stub. Example: quiz stub 52 -o moe.py"""
    question = question_or_fail(load_bank_or_fail(), question_id)
    if question.coding is None:
        raise UnusableInput(f"question {question_id} has no coding task")
    path = _write_stub(question, output, force)
    click.echo(f"Wrote {path}. Implement {', '.join(question.coding.functions)}, then run: quiz submit {path}")


@cli.command()
@click.option("--topic", required=True, help="Topic slug or question slug, e.g. moe (see `quiz topics`).")
@click.option("--no-stub", is_flag=True, help="Do not write the coding stub at the end.")
def start(topic: str, no_stub: bool) -> None:
    """Run a concept quiz on a topic, then write the coding stub. Example: quiz start --topic moe"""
    from quizgen.quiz.session import EndOfInput, run_session

    bank = load_bank_or_fail()
    questions = bank.by_topic(topic)
    if not questions:
        raise UnusableInput(f"no question has topic '{topic}'; see `quiz topics`")
    store = open_store_or_fail()
    out = console_out()

    def ask(prompt: str) -> str:
        try:
            return click.prompt(prompt, default="", show_default=False, prompt_suffix=": ")
        except (click.Abort, EOFError):
            raise EndOfInput from None

    def record(question, item, verdict) -> None:
        from quizgen.review.scheduler import record_review

        store.record_concept_answer(question.id, item.id, item.kind, verdict.response, verdict.correct)
        record_review(store, question.id, item.id, verdict.correct)

    out.print(f"{sum(len(q.concepts) for q in questions)} items on '{topic}'. Type q to stop; answers are saved as you go.")
    try:
        result = run_session(questions, ask, out.print, record)
    except EndOfInput:
        out.print("\nStopped. Your answers so far are saved (`quiz progress`).")
        return
    out.print(f"\n[bold]{result.correct} / {result.asked} right.[/bold]")
    if no_stub:
        return
    for question in questions:
        if question.coding is None:
            continue
        path = Path(question.coding.stub_file)
        if path.exists():
            out.print(f"{path} already exists (kept as is). Grade it with: quiz submit {path}")
        else:
            _write_stub(question, path, force=False)
            out.print(f"Wrote the coding stub {path}: implement {', '.join(question.coding.functions)}, "
                      f"then run: quiz submit {path}")


@cli.command()
@click.argument("question_id", type=int)
def hint(question_id: int) -> None:
    """Show the next hint for a coding task (each call reveals one more). Example: quiz hint 52"""
    question = question_or_fail(load_bank_or_fail(), question_id)
    hints = question.coding.hints if question.coding else []
    if not hints:
        raise UnusableInput(f"question {question_id} has no hints")
    store = open_store_or_fail()
    index = min(store.hints_used(question_id), len(hints) - 1)
    store.record_hint(question_id, index)
    click.echo(f"Hint {index + 1}/{len(hints)} for question {question_id}: {hints[index]}")


@cli.command()
@click.option("--limit", type=int, default=20, show_default=True, help="At most this many items.")
def review(limit: int) -> None:
    """Review the concept items that are due (spaced repetition, FSRS). Example: quiz review"""
    from quizgen.quiz.session import EndOfInput, ask_item
    from quizgen.review.scheduler import due_items, next_due, record_review

    bank = load_bank_or_fail()
    store = open_store_or_fail()
    out = console_out()
    items = {(q.id, i.id): (q, i) for q in bank.questions for i in q.concepts}
    due = [key for key in due_items(store) if key in items][:limit]
    if not due:
        when = next_due(store)
        out.print("Nothing is due." + (f" Next review: {when}." if when else " Answer items with `quiz start` first."))
        return

    def ask(prompt: str) -> str:
        try:
            return click.prompt(prompt, default="", show_default=False, prompt_suffix=": ")
        except (click.Abort, EOFError):
            raise EndOfInput from None

    right = 0
    try:
        for n, key in enumerate(due, 1):
            question, item = items[key]
            verdict = ask_item(question, item, ask, out.print)
            store.record_concept_answer(question.id, item.id, item.kind, verdict.response, verdict.correct)
            when = record_review(store, question.id, item.id, verdict.correct)
            right += verdict.correct
            mark = "[green]Right.[/green]" if verdict.correct else f"[red]The answer is {verdict.expected}.[/red]"
            out.print(f"{mark} [dim]{item.explanation.strip()}[/dim]\n[dim]next review: {when:%Y-%m-%d %H:%M} UTC[/dim]")
    except EndOfInput:
        out.print("\nStopped; what you answered is saved.")
        return
    out.print(f"\n[bold]{right} / {len(due)} right.[/bold]")


@cli.command()
def progress() -> None:
    """Show your attempts, best scores and concept answers. Example: quiz progress"""
    from quizgen.ui import progress_table

    rows = open_store_or_fail().summary()
    if not rows:
        click.echo("No progress yet: try `quiz start --topic moe`.")
        return
    console_out().print(progress_table(rows, load_bank_or_fail()))


@cli.command()
@click.option("--html", "output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="The HTML file to write (one self-contained page).")
@click.option("--topic", help="Only questions with this topic slug (see `quiz topics`).")
@click.option("--question", "question_ids", type=int, multiple=True, help="Only this question (repeatable).")
@click.option("--with-solutions", is_flag=True, help="Include the reference solutions of the coding tasks.")
@click.option("--with-progress", is_flag=True, help="Include your scores, failing tests and wrong answers.")
def export(output: Path, topic: str | None, question_ids: tuple[int, ...], with_solutions: bool,
           with_progress: bool) -> None:
    """Write a printable HTML study sheet. Example: quiz export --html moe.html --topic moe

    The page works offline: formulas are MathML, code is highlighted, and it loads nothing.
    """
    from quizgen.export import load_progress, select_questions, write_sheet

    bank = load_bank_or_fail()
    try:
        questions = select_questions(bank, topic, question_ids)
    except QuizgenError as exc:
        raise UnusableInput(str(exc)) from None
    progress = load_progress(open_store_or_fail(), [q.id for q in questions]) if with_progress else None
    subtitle = f"topic {topic}" if topic else ""
    try:
        path = write_sheet(output, questions, with_solutions=with_solutions, progress=progress, subtitle=subtitle)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {path}: {len(questions)} question{'' if len(questions) == 1 else 's'}.")
