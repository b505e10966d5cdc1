"""Commands that grade code: submit, watch, validate, grade-batch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from quizgen.cli.base import UnusableInput, cli, console_out, load_bank_or_fail, open_store_or_fail, question_or_fail
from quizgen.errors import UnusableSubmission


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--question", "question_id", type=int, help="Question number (default: the stub's header line).")
@click.option("--json", "as_json", is_flag=True, help="Print Gradescope's results.json instead of the report.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--seed", type=int, help="Replay the random cases of an earlier run.")
@click.option("-v", "--verbose", is_flag=True, help="List every test, not only the failures.")
def submit(file: Path, question_id: int | None, as_json: bool, device: str, seed: int | None, verbose: bool) -> None:
    """Grade FILE against the question's hidden tests. Example: quiz submit moe.py

    Exit status: 0 every test passed, 1 some failed, 2 the file or the arguments are unusable.
    """
    from quizgen.grading.runner import check_file, grade_checked, grading_launcher

    bank = load_bank_or_fail()
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
    if report.gradable and not report.nothing_implemented:
        open_store_or_fail().record_attempt(report)
    if as_json:
        click.echo(json.dumps(report.to_gradescope(), indent=2))
    else:
        from quizgen.grading.terminal import render_report

        render_report(console_out(), report, verbose=verbose)
    sys.exit(0 if report.all_passed else 1 if report.gradable else 2)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--question", "question_id", type=int, help="Question number (default: the stub's header line).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
def watch(file: Path, question_id: int | None, device: str) -> None:
    """Grade FILE again each time it is saved (Ctrl-C stops). Example: quiz watch moe.py"""
    from watchfiles import watch as watch_changes

    from quizgen.grading.runner import check_file, grade_checked, grading_launcher
    from quizgen.grading.terminal import render_report

    bank = load_bank_or_fail()
    out = console_out()
    with grading_launcher([file.resolve().parent]) as launcher:
        while True:
            try:
                checked = check_file(file, bank, question_id)
            except UnusableSubmission as exc:
                out.print(f"[red]{exc}[/red]")
            else:
                report = grade_checked(checked, launcher, device=device)
                if report.gradable and not report.nothing_implemented:
                    open_store_or_fail().record_attempt(report)
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
@click.argument("question_ids", type=int, nargs=-1)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--seed", type=int, help="Fix the random cases (default: fresh seeds, printed).")
@click.option("--seeds", "seed_count", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="Run every file on this many fresh seeds; any verdict that flips is a problem.")
@click.option("-v", "--verbose", is_flag=True, help="List every known-wrong implementation and the test that caught it.")
def validate(question_ids: tuple[int, ...], device: str, seed: int | None, seed_count: int, verbose: bool) -> None:
    """Check the grading itself: reference 100, stub 0, every known-wrong file rejected, on every seed.

    Example: quiz validate 52 --seeds 5   (no number: the whole bank). Exits 1 if any check fails.
    """
    import secrets

    from rich.markup import escape

    from quizgen.grading.runner import grading_launcher
    from quizgen.grading.terminal import validation_table
    from quizgen.grading.validate import validate_tasks

    bank = load_bank_or_fail()
    questions = [question_or_fail(bank, i) for i in question_ids] if question_ids else [q for q in bank.questions if q.coding]
    if device == "cuda":
        _require_cuda()
    seeds = [seed] if seed is not None else [secrets.randbits(31) for _ in range(seed_count)]
    out = console_out()
    results = []
    with grading_launcher() as launcher:
        for result in validate_tasks(questions, launcher, device=device, seeds=seeds):
            results.append(result)
            verdict = "[green]ok[/green]" if result.ok else "[red]" + escape("; ".join(result.problems)) + "[/red]"
            out.print(f"{result.question.id} {result.question.slug}: wrong rejected {result.rejected}, rewrites "
                      f"diagnosed {result.rewrites_diagnosed}, {result.seconds:.1f} s: {verdict}")
            if verbose:
                for w in result.wrong + result.rewrites:
                    what = f"rewrite of {w.rewrite_of}" if w.rewrite_of else "known-wrong"
                    out.print(escape(f"  {w.file} ({what}): rejected on {w.rejected}/{w.seeds} seeds, named on "
                                     f"{w.diagnosed}; first failing: {w.detail}"))
        out.print(validation_table(results, device))
        out.print(f"isolation: {launcher.isolation.mode}; seeds: {', '.join(map(str, seeds))}")
    sys.exit(0 if all(r.ok for r in results) else 1)


@cli.command("grade-batch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--question", "question_id", type=int, required=True, help="The question every file answers.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--seed", type=int, help="One seed for the whole class (default: a fresh one per file).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write FILE.results.json (Gradescope's schema) per submission and summary.csv here.")
@click.option("--allow-degraded", is_flag=True,
              help="Grade even where the strong sandbox walls are missing (see the isolation line).")
def grade_batch(folder: Path, question_id: int, device: str, seed: int | None, out_dir: Path | None,
                allow_degraded: bool) -> None:
    """Grade every .py file in FOLDER (instructors). Example: quiz grade-batch submissions/ --question 52 --out grades/

    Untrusted files run sandboxed; the grades do not go into your own progress database.
    """
    from quizgen.grading.batch import DegradedIsolation, grade_folder, summary_row, write_summary
    from quizgen.grading.terminal import batch_table

    bank = load_bank_or_fail()
    question_or_fail(bank, question_id)
    if device == "cuda":
        _require_cuda()
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for report in grade_folder(folder, bank, question_id, device=device, seed=seed, allow_degraded=allow_degraded):
            rows.append(summary_row(report))
            if out_dir:
                (out_dir / f"{report.file}.results.json").write_text(json.dumps(report.to_gradescope(), indent=2))
                write_summary(rows, out_dir / "summary.csv")  # after every file: a crash keeps what was graded
    except DegradedIsolation as exc:
        raise UnusableInput(str(exc)) from None
    console_out().print(batch_table(rows, f"question {question_id}: {folder}"))
    click.echo(f"{len(rows)} files graded" + (f"; results in {out_dir}" if out_dir else ""))
