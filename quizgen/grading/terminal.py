"""The grading report in the terminal, rendered with rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

STATUS_STYLE = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "red"), "timeout": ("⏱", "red"),
                "out-of-memory": ("M", "red"), "skipped": ("-", "yellow"), "grader-error": ("?", "magenta")}


def _first_lines(text: str, n: int = 12) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines[:n]) + (f"\n… ({len(lines) - n} more lines; --json shows all)" if len(lines) > n else "")


def render_report(out: Console, report) -> None:
    if not report.gradable:
        out.print(f"[bold red]Not gradable[/bold red]: {escape(report.message)}")
        out.print(f"[dim]isolation: {report.isolation}[/dim]")
        return
    seed_note = f"\n(seed {report.seed}: replay with --seed {report.seed})"
    for t in report.tests:
        icon, style = STATUS_STYLE.get(t.status, ("?", "white"))
        out.print(f"[{style}]{icon} {t.status:<8}[/{style}] {t.score:5.1f}/{t.weight:<5.1f} {escape(t.name)}")
        message = t.message.replace(seed_note, "")  # said once, in the summary
        if t.status != "passed" and message.strip():
            for line in _first_lines(message).splitlines():
                out.print(f"      [dim]{escape(line)}[/dim]")
    passed = sum(t.status == "passed" for t in report.tests)
    colour = "green" if report.all_passed else "yellow" if report.score else "red"
    out.print(f"\n[bold {colour}]Score {report.score:.1f} / {report.max_score:.0f}[/bold {colour}]  "
              f"({passed}/{len(report.tests)} tests passed, {report.seconds:.1f} s, device {report.device})")
    if not report.all_passed:
        out.print(f"[dim]Random cases came from seed {report.seed}: add --seed {report.seed} to replay them.[/dim]")
    if report.message:
        out.print(f"[yellow]{escape(report.message)}[/yellow]")
    out.print(f"[dim]isolation: {report.isolation}[/dim]")
