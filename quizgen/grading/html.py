"""The grading report as an HTML fragment, for notebooks: the facts of the terminal report
(``quizgen.grading.terminal``), failures first, then the per-function summary, the score, the seed
and the isolation mode. Every string that comes from a report is escaped: test messages quote what a
submission returned or raised, and file names are the student's, so all of it is untrusted text.

The fragment is self-contained (inline styles, no scripts, nothing loaded) so that it renders the
same in Jupyter, JupyterLab and VS Code, and in a notebook exported to HTML.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

from quizgen.grading.report import RULE_CAP, Report, TestResult
from quizgen.grading.terminal import (
    STATUS_STYLE,  # the same icons and colours as the terminal
)

MESSAGE_LINES = 8  # per failure shown; the report's tests hold every message
_COLOURS = {"green": "#1a7f37", "red": "#cf222e", "yellow": "#9a6700", "magenta": "#8250df", "white": "inherit"}
_BOX = ("font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; font-size: 13px; line-height: 1.45; "
        "border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; max-width: 980px")
_DIM = "color: #656d76"
_CELL = "white-space: nowrap; padding-right: 14px"
_PRE = ("margin: 2px 0 6px 18px; padding: 6px 8px; background: rgba(127,127,127,0.08); border-radius: 4px; "
        "white-space: pre-wrap; word-break: break-word; font-size: 12px")


def _span(text: str, colour: str, bold: bool = False) -> str:
    weight = "; font-weight: 600" if bold else ""
    return f'<span style="color: {_COLOURS.get(colour, colour)}{weight}">{escape(text)}</span>'


def _message_lines(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    shown = lines[:MESSAGE_LINES]
    if len(lines) > MESSAGE_LINES:
        shown.append(f"… ({len(lines) - MESSAGE_LINES} more lines; the report's tests hold every message)")
    return "\n".join(shown)


def by_function(report: Report) -> dict[str, list[TestResult]]:
    groups: dict[str, list[TestResult]] = defaultdict(list)
    for t in report.tests:
        groups[t.function or "(other)"].append(t)
    return groups


def common_diagnosis(tests: list[TestResult]) -> str:
    """The known mistake most of ``tests`` were diagnosed with, or ""."""
    named = [t.diagnosis for t in tests if t.diagnosis]
    return max(sorted(set(named)), key=named.count) if named else ""


def failing_tests(report: Report) -> list[tuple[TestResult, int]]:
    """Each failing test once, as the terminal shows it (a test's many failing cases are usually one
    mistake): its first failing case and how many more cases failed."""
    groups: dict[str, list[TestResult]] = defaultdict(list)
    for t in report.failing:
        groups[t.name].append(t)
    return [(cases[0], len(cases) - 1) for cases in groups.values()]


def _test_block(t: TestResult, others: int = 0) -> str:
    icon, colour = STATUS_STYLE.get(t.status, ("?", "white"))
    more = (f' <span style="{_DIM}">(and {others} more failing case{"s" if others > 1 else ""})</span>'
            if others else "")
    parts = [(f'<div style="margin-top: 6px">{_span(f"{icon} {t.status}", colour, bold=True)} '
              f"<code>{escape(t.title)}</code> "
              f'<span style="{_DIM}">{t.score:.1f}/{t.weight:.1f}</span>{more}</div>')]
    if not t.passed:
        if t.message.strip():
            parts.append(f'<pre style="{_PRE}">{escape(_message_lines(t.message))}</pre>')
        if t.diagnosis:
            parts.append(f'<div style="margin-left: 18px"><b>Looks like:</b> {escape(t.diagnosis)}</div>')
    return "".join(parts)


def _function_table(report: Report) -> str:
    rows = []
    for function, tests in by_function(report).items():
        passed = sum(t.passed for t in tests)
        points = sum(t.score for t in tests)
        weight = sum(t.weight for t in tests)
        icon, colour = ("✓", "green") if passed == len(tests) else ("✗", "red")
        looks = common_diagnosis(tests)
        rows.append(f'<tr><td style="{_CELL}">{_span(icon, colour, bold=True)} <code>{escape(function)}</code></td>'
                    f'<td style="{_CELL}; text-align: right">{passed}/{len(tests)} tests</td>'
                    f'<td style="{_CELL}; text-align: right">{points:.1f}/{weight:.1f} points</td>'
                    f"<td>{'<b>looks like:</b> ' + escape(looks) if looks else ''}</td></tr>")
    return ('<table style="border-collapse: collapse; margin: 8px 0; font-size: inherit" cellpadding="3">'
            + "".join(rows) + "</table>")


def _isolation(report: Report) -> str:
    """Strong with every wall standing is said in a word, the walls folded under it; anything less in full."""
    if report.isolation_mode == "strong" and "missing:" not in report.isolation:
        return (f'<details style="{_DIM}"><summary>isolation: strong (every wall stands)</summary>'
                f"{escape(report.isolation)}</details>")
    return f'<div style="{_DIM}">isolation: {escape(report.isolation)}</div>'


def report_html(report: Report, verbose: bool = False) -> str:
    """The report as one ``<div>``; ``verbose`` lists every test, not only the failures."""
    shows_score = report.gradable and not report.nothing_implemented
    score = f" · score {report.score:g}/{report.max_score:g}" if shows_score else ""
    head = f'<div style="{_DIM}">quizgen · question {report.question_id} · {escape(report.file)}{score}</div>'
    if not report.gradable:
        body = (f'<div>{_span("Not gradable", "red", bold=True)}: {escape(report.message)}</div>'
                f"{_isolation(report)}")
        return f'<div class="quizgen-report" style="{_BOX}">{head}{body}</div>'
    if report.nothing_implemented:
        functions = ", ".join(f"{f}()" for f in by_function(report))
        body = (f'<div>{_span("Nothing implemented yet", "yellow", bold=True)}: {escape(functions)} still raise '
                "NotImplementedError. Write them, then submit again (this run is not recorded).</div>")
        return f'<div class="quizgen-report" style="{_BOX}">{head}{body}</div>'
    parts = [head]
    for rule in report.rules_broken:
        parts.append(f"<div>{_span(f'Rule broken: {rule}', 'red', bold=True)} — the task exists to teach this, "
                     f"so the score is capped at {RULE_CAP:g}.</div>")
    if verbose:
        parts.append('<div style="margin-top: 6px; font-weight: 600">Tests</div>')
        parts.extend(_test_block(t) for t in report.tests)
    elif report.failing:
        parts.append('<div style="margin-top: 6px; font-weight: 600">Failures</div>')
        parts.extend(_test_block(t, others) for t, others in failing_tests(report))
    parts.append(_function_table(report))
    passed = sum(t.passed for t in report.tests)
    colour = "green" if report.all_passed else "yellow" if report.score else "red"
    headline = _span(f"Score {report.score:.1f} / {report.max_score:.0f}", colour, bold=True)
    parts.append(f'<div style="font-size: 15px">{headline}'
                 f"  ({passed}/{len(report.tests)} tests passed, {report.seconds:.1f} s, "
                 f"device {escape(report.device)})</div>")
    if not report.all_passed:
        parts.append(f'<div style="{_DIM}">Random cases came from seed {report.seed}: pass --seed {report.seed} '
                     "to replay them; -v lists every test.</div>")
    else:
        parts.append(f'<div style="{_DIM}">seed {report.seed}</div>')
    if report.message:
        parts.append(f"<div>{_span(report.message, 'yellow')}</div>")
    parts.append(_isolation(report))
    return f'<div class="quizgen-report" style="{_BOX}">{"".join(parts)}</div>'
