"""How a grading report shows itself: as HTML in a notebook, as the terminal report's text elsewhere."""

from __future__ import annotations

import io

from quizgen.grading.report import Report


def report_text(report: Report, verbose: bool = False, width: int = 100) -> str:
    """The terminal report (``quizgen.grading.terminal``) as plain text, without colour codes."""
    from rich.console import Console

    from quizgen.grading.terminal import render_report

    buffer = io.StringIO()
    out = Console(file=buffer, width=width, color_system=None, force_terminal=False, force_jupyter=False,
                  highlight=False, soft_wrap=False)
    render_report(out, report, verbose=verbose)
    return buffer.getvalue()


class ReportView:
    """Wraps a Report for display: Jupyter calls ``_repr_html_``, IPython's terminal ``_repr_pretty_``.
    ``view.report`` is the Report itself (score, tests, seed...)."""

    def __init__(self, report: Report, verbose: bool = False):
        self.report = report
        self.verbose = verbose

    def _repr_html_(self) -> str:
        from quizgen.grading.html import report_html

        return report_html(self.report, verbose=self.verbose)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def __str__(self) -> str:
        return report_text(self.report, verbose=self.verbose).rstrip("\n")

    def __repr__(self) -> str:
        r = self.report
        if not r.gradable:
            return f"<ReportView question {r.question_id}: not gradable>"
        return f"<ReportView question {r.question_id}: score {r.score:g}/{r.max_score:g}>"
