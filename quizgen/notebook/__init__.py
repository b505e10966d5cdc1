"""quizgen in IPython and Jupyter: ``%load_ext quizgen`` registers the ``%quiz`` / ``%%quiz`` magics.

    %%quiz submit 52        grade the cell's code (the same sandbox as `quiz submit`; the attempt is recorded)
    %quiz show 52           the question: corrected answer, pitfalls, references
    %quiz stub 52           the coding stub, put in the next cell (ready to submit)
    %quiz hint 52           the next hint

The submission is never imported or run in the kernel: it is sent to the sandbox as text.
"""

from __future__ import annotations

from quizgen.notebook.display import ReportView

__all__ = ["ReportView", "load_ipython_extension"]


def load_ipython_extension(ipython) -> None:
    from quizgen.notebook.magics import QuizMagics

    ipython.register_magics(QuizMagics)
