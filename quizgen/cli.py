"""The `quiz` command. Commands only parse, call one service and render; browsing never imports torch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from quizgen.errors import QuizgenError, UnusableSubmission


class UnusableInput(click.ClickException):
    """A file or argument that cannot be used at all: exit code 2, as for a usage error."""

    exit_code = 2


def _bank():
    from quizgen.bank import load_bank

    try:
        return load_bank()
    except QuizgenError as exc:
        raise click.ClickException(str(exc)) from None


def _question(bank, question_id: int):
    try:
        return bank.get(question_id)
    except QuizgenError as exc:
        raise UnusableInput(str(exc)) from None


def _store():
    from quizgen.store import open_store

    try:
        store = open_store()
    except QuizgenError as exc:
        raise click.ClickException(str(exc)) from None
    for notice in store.notices:
        click.echo(f"Warning: {notice}", err=True)
    return store


def _out():
    from quizgen.ui import console

    return console()


@click.group()
@click.version_option(package_name="quizgen")
def cli() -> None:
    """quizgen: study and practise LLM-architecture interview questions 51-65.

    \b
    Start with:  quiz list            browse the questions
                 quiz start --topic moe   concept quiz, then a coding stub
                 quiz submit moe.py   grade your implementation
    """


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

    _out().print(questions_table(questions))


@cli.command()
def topics() -> None:
    """List topic slugs with their questions. Example: quiz topics"""
    from quizgen.ui import topics_table

    _out().print(topics_table(_bank()))


@cli.command()
@click.argument("question_id", type=int)
def show(question_id: int) -> None:
    """Show a question: corrected answer, pitfalls, references. Example: quiz show 52"""
    from quizgen.ui import show_question

    show_question(_out(), _question(_bank(), question_id))


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
    question = _question(_bank(), question_id)
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

    bank = _bank()
    questions = bank.by_topic(topic)
    if not questions:
        raise UnusableInput(f"no question has topic '{topic}'; see `quiz topics`")
    store = _store()
    out = _out()

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
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--question", "question_id", type=int, help="Question number (default: the stub's header line).")
@click.option("--json", "as_json", is_flag=True, help="Print Gradescope's results.json instead of the report.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--seed", type=int, help="Replay the random cases of an earlier run.")
def submit(file: Path, question_id: int | None, as_json: bool, device: str, seed: int | None) -> None:
    """Grade FILE against the question's hidden tests. Example: quiz submit moe.py

    Exit status: 0 every test passed, 1 some failed, 2 the file or the arguments are unusable.
    """
    from quizgen.grading.runner import check_file, grade_checked, grading_launcher

    bank = _bank()
    try:
        checked = check_file(file, bank, question_id)
    except UnusableSubmission as exc:
        raise UnusableInput(str(exc)) from None
    if device == "cuda":
        _require_cuda()
    if not as_json:
        click.echo(f"Grading {file} as question {checked.question.id} ({checked.question.slug})…", err=True)
    with grading_launcher([file.resolve().parent]) as launcher:
        try:
            report = grade_checked(checked, launcher, device=device, seed=seed)
        except UnusableSubmission as exc:
            raise UnusableInput(str(exc)) from None
    store = _store()
    if report.gradable:
        store.record_attempt(report)
    if as_json:
        click.echo(json.dumps(report.to_gradescope(), indent=2))
    else:
        from quizgen.ui import render_report

        render_report(_out(), report)
    sys.exit(0 if report.all_passed else 1 if report.gradable else 2)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--question", "question_id", type=int, help="Question number (default: the stub's header line).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
def watch(file: Path, question_id: int | None, device: str) -> None:
    """Grade FILE again each time it is saved (Ctrl-C stops). Example: quiz watch moe.py"""
    from watchfiles import watch as watch_changes

    from quizgen.grading.runner import check_file, grade_checked, grading_launcher
    from quizgen.ui import render_report

    bank = _bank()
    out = _out()
    with grading_launcher([file.resolve().parent]) as launcher:
        while True:
            try:
                checked = check_file(file, bank, question_id)
            except UnusableSubmission as exc:
                out.print(f"[red]{exc}[/red]")
            else:
                report = grade_checked(checked, launcher, device=device)
                if report.gradable:
                    _store().record_attempt(report)
                render_report(out, report)
            out.print(f"[dim]watching {file} (Ctrl-C stops)…[/dim]")
            try:
                next(iter(watch_changes(file, debounce=300)))
            except (KeyboardInterrupt, StopIteration):
                return


def _require_cuda() -> None:
    import torch

    if not torch.cuda.is_available():
        raise UnusableInput("--device cuda: no CUDA device is available here")


@cli.command()
@click.argument("question_id", type=int)
def hint(question_id: int) -> None:
    """Show the next hint for a coding task (each call reveals one more). Example: quiz hint 52"""
    question = _question(_bank(), question_id)
    hints = question.coding.hints if question.coding else []
    if not hints:
        raise UnusableInput(f"question {question_id} has no hints")
    store = _store()
    index = min(store.hints_used(question_id), len(hints) - 1)
    store.record_hint(question_id, index)
    click.echo(f"Hint {index + 1}/{len(hints)} for question {question_id}: {hints[index]}")


@cli.command()
@click.option("--limit", type=int, default=20, show_default=True, help="At most this many items.")
def review(limit: int) -> None:
    """Review the concept items that are due (spaced repetition, FSRS). Example: quiz review"""
    from quizgen.quiz.session import EndOfInput, ask_item
    from quizgen.review.scheduler import due_items, next_due, record_review

    bank = _bank()
    store = _store()
    out = _out()
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

    rows = _store().summary()
    if not rows:
        click.echo("No progress yet: try `quiz start --topic moe`.")
        return
    _out().print(progress_table(rows, _bank()))


@cli.command()
@click.argument("question_ids", type=int, nargs=-1)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--seed", type=int, help="Fix the random cases (default: fresh seeds, printed).")
@click.option("-v", "--verbose", is_flag=True, help="List every known-wrong implementation and the test that caught it.")
def validate(question_ids: tuple[int, ...], device: str, seed: int | None, verbose: bool) -> None:
    """Check the grading itself: reference 100, stub 0, every known-wrong file rejected.

    Example: quiz validate 52   (no number: the whole bank). Exits 1 if any check fails.
    """
    from rich.markup import escape
    from rich.table import Table

    from quizgen.grading.runner import grading_launcher
    from quizgen.grading.validate import validate_tasks

    bank = _bank()
    questions = [_question(bank, i) for i in question_ids] if question_ids else [q for q in bank.questions if q.coding]
    if device == "cuda":
        _require_cuda()
    out = _out()
    table = Table(title=f"quiz validate ({device})", title_justify="left")
    for col in ("task", "reference", "stub", "wrong rejected", "time", "problems"):
        table.add_column(col, overflow="fold")
    results = []
    with grading_launcher() as launcher:
        for result in validate_tasks(questions, launcher, device=device, seed=seed):
            question = result.question
            results.append(result)
            ref = f"{result.reference.score:g}" if result.reference else "-"
            stub_score = f"{result.stub.score:g}" if result.stub else "-"
            rejected = f"{sum(m.rejected for m in result.mutants)}/{len(result.mutants)}"
            verdict = "[green]ok[/green]" if result.ok else "[red]" + escape("; ".join(result.problems)) + "[/red]"
            table.add_row(f"{question.id} {question.slug}", ref, stub_score, rejected, f"{result.seconds:.1f} s", verdict)
            out.print(f"{question.id} {question.slug}: reference {ref}, stub {stub_score}, wrong rejected {rejected}, "
                      f"{result.seconds:.1f} s: {verdict}")
            if verbose:
                for m in result.mutants:
                    out.print(escape(f"  {question.id} {m.file}: {'rejected' if m.rejected else 'PASSED'} "
                                     f"(score {m.score:g}; first failing: {m.detail})"))
        out.print(table)
        out.print(f"isolation: {launcher.isolation.get('mode')}; seed: {seed if seed is not None else 'fresh per task'}")
    sys.exit(0 if all(r.ok for r in results) else 1)


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

    bank = _bank()
    try:
        questions = select_questions(bank, topic, question_ids)
    except QuizgenError as exc:
        raise UnusableInput(str(exc)) from None
    progress = load_progress(_store(), [q.id for q in questions]) if with_progress else None
    subtitle = f"topic {topic}" if topic else ""
    try:
        path = write_sheet(output, questions, with_solutions=with_solutions, progress=progress, subtitle=subtitle)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {path}: {len(questions)} question{'' if len(questions) == 1 else 's'}.")


@cli.command("grade-batch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--question", "question_id", type=int, required=True, help="The question every file answers.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--seed", type=int, help="One seed for the whole class (default: a fresh one per file).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write FILE.results.json (Gradescope's schema) per submission and summary.csv here.")
def grade_batch(folder: Path, question_id: int, device: str, seed: int | None, out_dir: Path | None) -> None:
    """Grade every .py file in FOLDER (instructors). Example: quiz grade-batch submissions/ --question 52 --out grades/

    Untrusted files run sandboxed; the grades do not go into your own progress database.
    """
    import csv

    from rich.table import Table

    from quizgen.grading.batch import grade_folder

    bank = _bank()
    _question(bank, question_id)
    if device == "cuda":
        _require_cuda()
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    table = Table(title=f"question {question_id}: {folder}", title_justify="left")
    for col in ("file", "score", "tests passed", "time", "first problem"):
        table.add_column(col, overflow="fold")
    rows = []
    for report in grade_folder(folder, bank, question_id, device=device, seed=seed):
        passed = sum(t.status == "passed" for t in report.tests)
        problem = report.message if not report.gradable else (report.failing[0].name if report.failing else "")
        rows.append({"file": report.file, "score": report.score if report.gradable else "", "max_score": report.max_score,
                     "passed": passed, "tests": len(report.tests), "gradable": report.gradable,
                     "seconds": round(report.seconds, 2), "first_problem": problem.splitlines()[0] if problem else ""})
        table.add_row(report.file, f"{report.score:g}" if report.gradable else "not gradable",
                      f"{passed}/{len(report.tests)}", f"{report.seconds:.1f} s", rows[-1]["first_problem"])
        if out_dir:
            (out_dir / f"{report.file}.results.json").write_text(json.dumps(report.to_gradescope(), indent=2))
    if out_dir:
        with (out_dir / "summary.csv").open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["file"])
            writer.writeheader()
            writer.writerows(rows)
    _out().print(table)
    click.echo(f"{len(rows)} files graded" + (f"; results in {out_dir}" if out_dir else ""))


def main() -> None:
    cli()
