"""Commands for studying: browse, quiz, hints, solutions, review, progress, reset, study sheets.
None of them imports torch."""

from __future__ import annotations

import json
from pathlib import Path

import click

from quizgen.cli.base import (
    UnusableInput,
    cli,
    console_out,
    load_bank_or_fail,
    load_question_or_fail,
    open_store_or_fail,
)
from quizgen.errors import QuizgenError

TOPIC_HELP = "A topic, question slug or number (moe, MoE, flash, 52); see `quiz topics`."


def _matching_or_fail(topic: str, questions: list):
    from quizgen.quiz.topics import UnknownTopic, matching

    try:
        return matching(topic, questions)
    except UnknownTopic as exc:
        raise UnusableInput(str(exc)) from None


@cli.command("list")
@click.option("--topic", help=TOPIC_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_questions(topic: str | None, as_json: bool) -> None:
    """List the questions with your state: task solved or attempted, items answered, items due.

    Example: quiz list --topic quantization
    """
    from quizgen.bank.index import question_summaries
    from quizgen.store.states import question_states

    try:
        questions = question_summaries()
    except QuizgenError as exc:
        raise click.ClickException(str(exc)) from None
    if topic:
        questions = _matching_or_fail(topic, questions)
    states = question_states()
    if as_json:
        rows = []
        for q in questions:
            state = states.get(q["id"])
            rows.append(q | {"task": state.label if state else "-", "attempts": state.attempts if state else 0,
                             "solved": bool(state and state.solved), "answered": state.answered if state else 0,
                             "due": state.due if state else 0})
        click.echo(json.dumps(rows, indent=2))
        return
    from quizgen.ui import questions_table

    console_out().print(questions_table(questions, states))


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

    show_question(console_out(), load_question_or_fail(question_id))


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
    question = load_question_or_fail(question_id)
    if question.coding is None:
        raise UnusableInput(f"question {question_id} has no coding task")
    path = _write_stub(question, output, force)
    click.echo(f"Wrote {path}. Implement {', '.join(question.coding.functions)}, then run: quiz submit {path}")


def _ask(prompt: str) -> str:
    from quizgen.quiz.session import EndOfInput

    try:
        return click.prompt(prompt, default="", show_default=False, prompt_suffix=": ")
    except (click.Abort, EOFError):
        raise EndOfInput from None


def _recorder(store):
    """Store an answer and reschedule its review card; returns when the card is next due."""
    from quizgen.review.scheduler import record_review

    def record(question, item, verdict):
        store.record_concept_answer(question.id, item.id, item.kind, verdict.response, verdict.correct,
                                    shown_order=verdict.shown_order, chosen=verdict.chosen, rating=verdict.rating)
        return record_review(store, question.id, item.id, verdict.rating)

    return record


@cli.command()
@click.option("--topic", required=True, help=TOPIC_HELP)
@click.option("--no-stub", is_flag=True, help="Do not write the coding stub at the end.")
def start(topic: str, no_stub: bool) -> None:
    """Run a concept quiz on a topic, then write the coding stub. Example: quiz start --topic moe

    Options are shuffled every time; flashcards are rated 1 Again, 2 Hard, 3 Good, 4 Easy.
    """
    from quizgen.quiz.session import EndOfInput, run_session

    questions = _matching_or_fail(topic, load_bank_or_fail().questions)
    store = open_store_or_fail()
    out = console_out()
    which = f"question{'s' if len(questions) > 1 else ''} {', '.join(str(q.id) for q in questions)}"
    out.print(f"{sum(len(q.concepts) for q in questions)} items on '{topic}' ({which}). "
              "Type q to stop; answers are saved as you go.")
    try:
        result = run_session(questions, _ask, out.print, _recorder(store))
    except EndOfInput:
        out.print("\nStopped. Your answers so far are saved (`quiz progress`, `quiz review`).")
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
@click.option("--all", "show_all", is_flag=True, help="Show the hints revealed so far, without revealing another.")
def hint(question_id: int, show_all: bool) -> None:
    """Reveal the next hint for a coding task; --all shows those revealed so far. Example: quiz hint 52"""
    from quizgen.ui import hint_view, hints_view

    question = load_question_or_fail(question_id)
    hints = question.coding.hints if question.coding else []
    if not hints:
        raise UnusableInput(f"question {question_id} has no hints")
    store = open_store_or_fail()
    out = console_out()
    shown = min(store.hints_used(question_id), len(hints))
    if show_all:
        if shown == 0:
            out.print(f"No hint revealed yet for question {question_id}: `quiz hint {question_id}` shows the first.")
            return
        out.print(hints_view(question_id, hints, shown))
    elif shown < len(hints):
        store.record_hint(question_id, shown)
        shown += 1
        out.print(hint_view(question_id, hints, shown))
    if shown >= len(hints):
        out.print(f"No more hints: all {len(hints)} are revealed (`quiz hint {question_id} --all` shows them). "
                  f"Stuck? `quiz solution {question_id} --give-up` shows the reference.")
    else:
        out.print(f"[dim]{len(hints) - shown} more: `quiz hint {question_id}`.[/dim]")


@cli.command()
@click.argument("question_id", type=int)
@click.option("--give-up", is_flag=True, help="Show it before you have passed (recorded in your progress).")
def solution(question_id: int, give_up: bool) -> None:
    """Show the reference solution of a coding task, once you have passed it. Example: quiz solution 52

    Before a pass, --give-up shows it anyway; `quiz progress` then says you gave up.
    """
    from quizgen.grading.task import Task
    from quizgen.ui import solution_view

    question = load_question_or_fail(question_id)
    if question.coding is None:
        raise UnusableInput(f"question {question_id} has no coding task")
    store = open_store_or_fail()
    passed = store.has_passed(question_id)
    if not (passed or give_up or store.gave_up(question_id)):
        raise click.ClickException(
            f"question {question_id} is not solved yet; pass it first (quiz submit {question.coding.stub_file}), "
            f"or see the reference anyway with: quiz solution {question_id} --give-up")
    path = Task.of(question).reference_path
    try:
        source = path.read_text(encoding="utf-8")
    except OSError:
        raise click.ClickException(f"question {question_id} has no reference solution yet ({path} is missing)") \
            from None
    store.record_solution_shown(question_id, "passed" if passed else "gave-up")
    relative = f"solutions/{question.folder_name}/{path.name}"
    console_out().print(solution_view(f"Reference solution for question {question_id} ({relative})", source))
    if not passed:
        click.echo(f"Recorded: you gave up on question {question_id}. A pass later still counts as solved.")


@cli.command()
@click.argument("question_id", type=int)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def reset(question_id: int, yes: bool) -> None:
    """Clear one question's progress: attempts, concept answers, hints, review cards. Example: quiz reset 52"""
    question = load_question_or_fail(question_id)
    store = open_store_or_fail()
    counts = store.question_rows(question.id)
    if not any(counts.values()):
        click.echo(f"Nothing to reset: no progress is recorded for question {question_id}.")
        return
    words = {"attempts": "attempt", "concept_answers": "concept answer", "hints_used": "hint",
             "review_cards": "review card", "review_log": "review", "solutions_shown": "solution view"}
    parts = [f"{n} {words[t]}{'' if n == 1 else 's'}" for t, n in counts.items() if n]
    if not yes:
        click.confirm(f"Delete question {question_id}'s progress ({', '.join(parts)})?", abort=True)
    store.reset_question(question.id)
    click.echo(f"Question {question_id}'s progress is cleared.")


@cli.command()
@click.option("--limit", type=int, default=20, show_default=True, help="At most this many items.")
def review(limit: int) -> None:
    """Review the concept items that are due (spaced repetition, FSRS). Example: quiz review

    Flashcards are rated 1 Again, 2 Hard, 3 Good, 4 Easy; other items by whether you got them right.
    """
    from quizgen.quiz.session import (
        EndOfInput,
        ask_item,
        presentation_rng,
        verdict_lines,
    )
    from quizgen.review.scheduler import due_items, schedule
    from quizgen.times import format_due

    bank = load_bank_or_fail()
    store = open_store_or_fail()
    out = console_out()
    items = {(q.id, i.id): (q, i) for q in bank.questions for i in q.concepts}
    due = [key for key in due_items(store) if key in items]
    if not due:
        later = schedule(store, keys=set(items)).next_due
        out.print("Nothing is due." + (f" Next review: {format_due(later)}." if later
                                      else " Answer items with `quiz start --topic moe` first."))
        return
    count = f"{len(due)} item{'' if len(due) == 1 else 's'} due"
    out.print(f"{count}" + (f"; reviewing the {limit} most overdue" if len(due) > limit else "") +
              ". Type q to stop; answers are saved as you go.")
    record = _recorder(store)
    rng = presentation_rng()
    right = asked = 0
    try:
        for key in due[:limit]:
            question, item = items[key]
            verdict = ask_item(question, item, _ask, out.print, rng)
            when = record(question, item, verdict)
            asked += 1
            right += verdict.correct
            out.print(verdict_lines(item, verdict))
            out.print(f"[dim]Next review of this item: {format_due(when)}.[/dim]")
    except EndOfInput:
        out.print("\nStopped; what you answered is saved.")
    if asked:
        out.print(f"\n[bold]{right} / {asked} right.[/bold]")
    after = schedule(store, keys=set(items))
    tail = f"{after.due_now} still due" if after.due_now else "Nothing else is due"
    out.print(tail + (f"; next review {format_due(after.next_due)}." if after.next_due else "."))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def progress(as_json: bool) -> None:
    """Show your progress: tasks solved, concept accuracy per topic, items due, each question.

    Example: quiz progress --json
    """
    from quizgen.quiz.progress import build_overview

    overview = build_overview(load_bank_or_fail(), open_store_or_fail())
    if as_json:
        click.echo(json.dumps(overview.to_json(), indent=2))
        return
    if overview.empty:
        click.echo(f"No progress yet (0/{overview.tasks} coding tasks solved): try `quiz start --topic moe`.")
        return
    from quizgen.ui import progress_view

    console_out().print(progress_view(overview))


@cli.command()
@click.option("--html", "output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="The HTML file to write (one self-contained page).")
@click.option("--topic", help=TOPIC_HELP)
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
