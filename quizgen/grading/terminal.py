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
MESSAGE_LINES = 6  # per failure shown; --json has everything
FAILURE_LINES = 28  # the failures' share of a report that should fit in about 40 lines


def _first_lines(text: str, n: int) -> list[str]:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[:n] + ([f"… ({len(lines) - n} more lines; --json shows all)"] if len(lines) > n else [])


def _by_function(report: Report) -> dict[str, list[TestResult]]:
    groups: dict[str, list[TestResult]] = defaultdict(list)
    for t in report.tests:
        groups[t.function or "(other)"].append(t)
    return groups


def _by_test(tests: list[TestResult]) -> dict[str, list[TestResult]]:
    groups: dict[str, list[TestResult]] = defaultdict(list)
    for t in tests:
        groups[t.name].append(t)
    return groups


def _common_diagnosis(tests: list[TestResult]) -> str:
    named = [t.diagnosis for t in tests if t.diagnosis]
    return max(set(named), key=named.count) if named else ""


def render_report(out: Console, report: Report, verbose: bool = False) -> None:
    if not report.gradable:
        out.print(f"[bold red]Not gradable[/bold red]: {escape(report.message)}")
        out.print(f"[dim]isolation: {escape(_isolation_line(report, verbose))}[/dim]")
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
        icon, style = ("✓", "green") if passed == len(tests) else ("✗", "red")
        looks = _common_diagnosis(tests)
        out.print(f"[{style}]{icon}[/{style}] {escape(function):<26} {passed:>3}/{len(tests):<3} tests "
                  f"{sum(t.score for t in tests):5.1f}/{sum(t.weight for t in tests):<5.1f} points"
                  + (f"  [bold]looks like:[/bold] {escape(looks)}" if looks else ""))
    if verbose:
        _every_test(out, report)
    else:
        _failures(out, report)
    passed = sum(t.passed for t in report.tests)
    colour = "green" if report.all_passed else "yellow" if report.score else "red"
    out.print(f"\n[bold {colour}]Score {report.score:.1f} / {report.max_score:.0f}[/bold {colour}]  "
              f"({passed}/{len(report.tests)} tests passed, {report.seconds:.1f} s, device {report.device})")
    if not report.all_passed:
        out.print(f"[dim]Random cases came from seed {report.seed}: add --seed {report.seed} to replay them; "
                  "-v lists every test.[/dim]")
    if report.message:
        out.print(f"[yellow]{escape(report.message)}[/yellow]")
    out.print(f"[dim]isolation: {escape(_isolation_line(report, verbose))}[/dim]")


def _isolation_line(report: Report, verbose: bool) -> str:
    """Strong with every wall standing is said in a word (-v and --json list the walls); anything
    less is said in full."""
    if report.isolation_mode == "strong" and "missing:" not in report.isolation and not verbose:
        return "strong (every wall stands; -v lists them)"
    return report.isolation


def _height(out: Console, text: str) -> int:
    return max(1, -(-len(text) // max(out.width, 20)))


def _failure(out: Console, t: TestResult, others: int = 0) -> int:
    """One failing test (its first failing case, with its inputs and message); returns the lines used."""
    icon, style = STATUS_STYLE.get(t.status, ("?", "white"))
    more = f" [dim](and {others} more failing case{'s' if others > 1 else ''})[/dim]" if others else ""
    out.print(f"\n[{style}]{icon} {t.status}[/{style}] {escape(t.title)}  [dim]{t.score:.1f}/{t.weight:.1f}[/dim]{more}")
    lines = _first_lines(t.message, MESSAGE_LINES)
    for line in lines:
        out.print(f"    {escape(line)}")
    if t.diagnosis:
        out.print(f"    [bold]Looks like:[/bold] {escape(t.diagnosis)}")
    return 2 + sum(_height(out, "    " + line) for line in lines) + bool(t.diagnosis)


def _failures(out: Console, report: Report) -> None:
    """Each failing test once (a test's many failing cases are usually one mistake), as many as fit."""
    groups = list(_by_test(report.failing).items())
    used = 0
    for shown, (_name, cases) in enumerate(groups):
        if used and used + 6 + MESSAGE_LINES > FAILURE_LINES:
            rest = [n for n, _ in groups[shown:]]
            out.print(f"\n[dim]… and {len(rest)} more failing test{'s' if len(rest) > 1 else ''}: "
                      f"{escape(', '.join(rest))} (-v shows them, --json has every message)[/dim]")
            return
        used += _failure(out, cases[0], len(cases) - 1)


def _every_test(out: Console, report: Report) -> None:
    for t in report.tests:
        if t.passed:
            out.print(f"[green]✓[/green] {escape(t.title)}  [dim]{t.score:.1f}/{t.weight:.1f}[/dim]")
        else:
            _failure(out, t)


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
    for col in ("task", "reference", "stub", "wrong rejected", "rewrites named", "grading time", "problems"):
        table.add_column(col, overflow="fold")
    for r in results:
        scores = lambda values: "/".join(f"{v:g}" for v in sorted(set(values))) or "-"
        verdict = "[green]ok[/green]" if r.ok else "[red]" + escape("; ".join(r.problems)) + "[/red]"
        table.add_row(f"{r.question.id} {r.question.slug}", scores(r.reference_scores), scores(r.stub_scores),
                      r.rejected, r.rewrites_diagnosed, f"{r.seconds:.1f} s", verdict)
    return table
