"""The grading report in the terminal, written like a good code review: a rule broken comes first,
then one line per function (tests passed, points), then only the failures, each with its case, the
message and the known mistake it resembles. ``verbose`` lists every test."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from quizgen.grading.report import RULE_CAP, Report, Status, TestResult

STATUS_STYLE = {Status.PASSED: ("✓", "green"), Status.FAILED: ("✗", "red"), Status.ERROR: ("!", "red"),
                Status.TIMEOUT: ("⏱", "red"), Status.OUT_OF_MEMORY: ("M", "red"), Status.NOT_RUN: ("-", "yellow"),
                Status.SKIPPED: ("-", "yellow"), Status.GRADER_ERROR: ("?", "magenta")}
MESSAGE_LINES = 8  # per failure; --json has everything
SHOWN_FAILURES = 6  # distinct failures shown in full; the rest are listed by name


def _first_lines(text: str, n: int) -> list[str]:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[:n] + ([f"… ({len(lines) - n} more lines; --json shows all)"] if len(lines) > n else [])


def _by_function(report: Report) -> dict[str, list[TestResult]]:
    groups: dict[str, list[TestResult]] = defaultdict(list)
    for t in report.tests:
        groups[t.function or "(other)"].append(t)
    return groups


def _failure_key(t: TestResult) -> tuple:
    """Failures with the same test and the same first line of message are one problem, shown once."""
    return (t.name, t.status, (t.message.strip().splitlines() or [""])[0][:80])


def render_report(out: Console, report: Report, verbose: bool = False) -> None:
    if not report.gradable:
        out.print(f"[bold red]Not gradable[/bold red]: {escape(report.message)}")
        out.print(f"[dim]isolation: {escape(report.isolation)}[/dim]")
        return
    if report.nothing_implemented:
        functions = ", ".join(f"{f}()" for f in _by_function(report))
        out.print(f"[bold yellow]Nothing implemented yet[/bold yellow]: {escape(functions)} still raise "
                  "NotImplementedError. Write them, then submit again (this run is not recorded).")
        return
    for rule in report.rules_broken:
        out.print(f"[bold red]Rule broken: {escape(rule)}[/bold red] — the task exists to teach this, so the score "
                  f"is capped at {RULE_CAP:g}.")
    for function, tests in _by_function(report).items():
        passed = sum(t.passed for t in tests)
        points = sum(t.score for t in tests)
        weight = sum(t.weight for t in tests)
        icon, style = ("✓", "green") if passed == len(tests) else ("✗", "red")
        out.print(f"[{style}]{icon}[/{style}] {escape(function):<28} {passed:>3}/{len(tests):<3} tests  "
                  f"{points:5.1f}/{weight:<5.1f} points")
    shown = report.tests if verbose else report.failing
    seen: dict[tuple, int] = {}
    hidden_repeats = 0
    printed = 0
    for t in shown:
        key = _failure_key(t)
        if not t.passed and key in seen and not verbose:
            seen[key] += 1
            hidden_repeats += 1
            continue
        seen[key] = 1
        icon, style = STATUS_STYLE.get(t.status, ("?", "white"))
        if not verbose and printed >= SHOWN_FAILURES:
            hidden_repeats += 1
            continue
        printed += 1
        out.print(f"\n[{style}]{icon} {t.status}[/{style}] {escape(t.title)}  [dim]{t.score:.1f}/{t.weight:.1f}[/dim]")
        if not t.passed:
            for line in _first_lines(t.message, MESSAGE_LINES):
                out.print(f"    {escape(line)}")
            if t.diagnosis:
                out.print(f"    [bold]Looks like:[/bold] {escape(t.diagnosis)}")
    if hidden_repeats:
        out.print(f"\n[dim]… and {hidden_repeats} more failing case(s) like those above (-v lists every test, "
                  "--json has all messages).[/dim]")
    passed = sum(t.passed for t in report.tests)
    colour = "green" if report.all_passed else "yellow" if report.score else "red"
    out.print(f"\n[bold {colour}]Score {report.score:.1f} / {report.max_score:.0f}[/bold {colour}]  "
              f"({passed}/{len(report.tests)} tests passed, {report.seconds:.1f} s, device {report.device})")
    if not report.all_passed:
        out.print(f"[dim]Random cases came from seed {report.seed}: add --seed {report.seed} to replay them.[/dim]")
    if report.message:
        out.print(f"[yellow]{escape(report.message)}[/yellow]")
    out.print(f"[dim]isolation: {escape(report.isolation)}[/dim]")


def batch_table(rows: list[dict], title: str) -> Table:
    """The class's summary (rows from ``quizgen.grading.batch.summary_row``); names are escaped, never markup."""
    table = Table(title=escape(title), title_justify="left")
    for col in ("file", "score", "tests passed", "time", "first problem"):
        table.add_column(col, overflow="fold")
    for row in rows:
        score = f"{row['score']:g}" if row["gradable"] else "not gradable"
        table.add_row(escape(row["file"]), score, f"{row['passed']}/{row['tests']}", f"{row['seconds']:.1f} s",
                      escape(row["first_problem"]))
    return table


def validation_table(results: list, device: str) -> Table:
    """One row per task of ``quiz validate`` (results from ``quizgen.grading.validate``)."""
    table = Table(title=f"quiz validate ({device})", title_justify="left")
    for col in ("task", "reference", "stub", "wrong rejected", "rewrites named", "time", "problems"):
        table.add_column(col, overflow="fold")
    for r in results:
        scores = lambda values: "/".join(f"{v:g}" for v in sorted(set(values))) or "-"  # noqa: E731
        verdict = "[green]ok[/green]" if r.ok else "[red]" + escape("; ".join(r.problems)) + "[/red]"
        table.add_row(f"{r.question.id} {r.question.slug}", scores(r.reference_scores), scores(r.stub_scores),
                      r.rejected, r.rewrites_diagnosed, f"{r.seconds:.1f} s", verdict)
    return table
