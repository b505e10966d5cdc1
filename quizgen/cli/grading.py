"""Commands that grade code: submit, watch, validate, grade-batch."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from quizgen.cli.base import (
    UnusableInput,
    cli,
    console_out,
    load_bank_or_fail,
    open_store_or_fail,
    question_or_fail,
)
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
    At a terminal, the first submit starts a grading server that keeps torch and the sandbox warm
    for the next ones (it stops after 10 idle minutes); QUIZGEN_SERVER=0 grades in this process
    instead, QUIZGEN_SERVER=1 uses the server in scripts too.
    """
    from quizgen.grading import server

    if device == "cpu" and server.enabled():
        import shutil

        reply = server.request({"path": str(file), "cwd": str(Path.cwd()), "question": question_id,
                                "json": as_json, "seed": seed, "verbose": verbose,
                                "width": shutil.get_terminal_size().columns, "color": sys.stdout.isatty()})
        if reply is not None:
            sys.stderr.write(reply.get("stderr", ""))
            sys.stdout.write(reply.get("stdout", ""))
            sys.exit(int(reply.get("exit_code", 2)))
    if device == "cuda":
        _require_cuda()
    from quizgen.grading.submit import submit_file

    try:
        code = submit_file(file, question_id, console_out(), lambda line: click.echo(line, err=True),
                           device=device, seed=seed, as_json=as_json, verbose=verbose)
    except UnusableSubmission as exc:
        raise UnusableInput(str(exc)) from None
    sys.exit(code)


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
    with grading_launcher(many_workers=True) as launcher:
        for result in validate_tasks(questions, launcher, device=device, seeds=seeds):
            results.append(result)
            verdict = "[green]ok[/green]" if result.ok else "[red]" + escape("; ".join(result.problems)) + "[/red]"
            out.print(f"{result.question.id} {result.question.slug}: wrong rejected {result.rejected}, rewrites "
                      f"named {result.rewrites_diagnosed}, {result.seconds:.1f} s of grading: {verdict}")
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
@click.option("--scheduler", metavar="ADDRESS",
              help="Grade on this dask.distributed cluster (e.g. tcp://10.0.0.5:8786); its workers need quizgen.")
@click.option("--workers", type=click.IntRange(1, 512), help="Grade on a local dask cluster of this many processes.")
def grade_batch(folder: Path, question_id: int, device: str, seed: int | None, out_dir: Path | None,
                allow_degraded: bool, scheduler: str | None, workers: int | None) -> None:
    """Grade every .py file in FOLDER (instructors). Example: quiz grade-batch submissions/ --question 52 --out grades/

    Untrusted files run sandboxed; the grades do not go into your own progress database. With
    --scheduler or --workers the class is fanned out over a dask cluster (pip install 'quizgen[cluster]').
    """
    import contextlib

    from quizgen.grading.batch import (
        ClassResults,
        DegradedIsolation,
        collect,
        grade_folder,
    )
    from quizgen.grading.terminal import batch_table

    bank = load_bank_or_fail()
    question_or_fail(bank, question_id)
    if scheduler and workers:
        raise UnusableInput("--scheduler and --workers do not go together: --scheduler grades on an existing "
                            "cluster, --workers starts one on this machine")
    if device == "cuda":
        _require_cuda()
    entries = collect(folder, bank, question_id)
    results = ClassResults(out_dir)
    options = {"device": device, "seed": seed, "allow_degraded": allow_degraded}
    try:
        with contextlib.ExitStack() as stack:
            if scheduler or workers:
                from quizgen.grading.cluster import (
                    ClusterUnavailable,
                    cluster_client,
                    grade_on_cluster,
                )

                try:
                    client = stack.enter_context(cluster_client(scheduler, workers))
                except ClusterUnavailable as exc:
                    raise UnusableInput(str(exc)) from None
                where = f"the dask cluster at {scheduler}" if scheduler else f"{workers} local dask workers"
                reports = grade_on_cluster(client, folder, entries, question_id, **options)
            else:
                where = "this machine"
                reports = grade_folder(folder, bank, question_id, entries=entries, **options)
            with _batch_progress(len(entries), where) as advance:
                for report in reports:
                    results.add(report)
                    advance(report.file)
    except DegradedIsolation as exc:
        raise UnusableInput(str(exc)) from None
    console_out().print(batch_table(results.rows, f"question {question_id}: {folder}"))
    click.echo(f"{len(results.rows)} files graded" + (f"; results in {out_dir}" if out_dir else ""))


@contextmanager
def _batch_progress(total: int, where: str):
    """A progress bar on stderr; yields advance(file_name), called once per graded file."""
    from rich import progress as bars
    from rich.markup import escape

    from quizgen.ui import console

    columns = (bars.TextColumn("[progress.description]{task.description}"), bars.BarColumn(),
               bars.MofNCompleteColumn(), bars.TimeElapsedColumn(), bars.TextColumn("eta"), bars.TimeRemainingColumn())
    # No refresh thread: the local path forks its gradings from this process.
    with bars.Progress(*columns, console=console(stderr=True), transient=True, auto_refresh=False) as progress:
        task = progress.add_task(f"grading on {escape(where)}", total=total)
        progress.refresh()

        def advance(name: str) -> None:
            progress.update(task, advance=1, description=f"graded {escape(name)}")
            progress.refresh()

        yield advance
