"""The ``%quiz`` line magic and the ``%%quiz`` cell magic.

They parse their words, call the same services as the CLI (``quizgen.api.grade``, the bank, the
store) and return or print the result. Errors a user can cause become IPython's UsageError: one red
line, no traceback.
"""

from __future__ import annotations

import argparse
import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from quizgen.errors import QuizgenError, UnusableSubmission
from quizgen.notebook.display import ReportView

CELL_NAME = "cell.py"  # how a cell's code is named in messages (cell.py:3: syntax error) and in the store
USAGE = """\
%%quiz submit N [--seed S] [--device cpu|cuda] [--no-record] [-v]   grade the cell's code as question N
%quiz show N                                                        the question, its corrected answer
%quiz stub N                                                        put the coding stub in the next cell
%quiz hint N [--all]                                                the next hint (--all: those shown so far)"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"%quiz: {message}\n{USAGE}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="%quiz", add_help=False)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    submit = commands.add_parser("submit", add_help=False)
    submit.add_argument("question", type=int)
    submit.add_argument("--seed", type=int)
    submit.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    submit.add_argument("--no-record", action="store_true")
    submit.add_argument("-v", "--verbose", action="store_true")
    for name in ("show", "stub"):
        commands.add_parser(name, add_help=False).add_argument("question", type=int)
    hint = commands.add_parser("hint", add_help=False)
    hint.add_argument("question", type=int)
    hint.add_argument("--all", dest="show_all", action="store_true")
    return parser


def _question(question_id: int, coding: bool = False):
    from quizgen.bank import load_bank

    try:
        question = load_bank().get(question_id)
    except QuizgenError as exc:
        raise UsageError(str(exc)) from None
    if coding and question.coding is None:
        raise UsageError(f"question {question_id} has no coding task")
    return question


def _console():
    from quizgen.ui import console

    return console()  # rich renders as HTML in a notebook, as text in a terminal


@magics_class
class QuizMagics(Magics):
    @line_cell_magic
    def quiz(self, line: str, cell: str | None = None):
        """quizgen in a notebook. %%quiz submit 52 grades the cell; %quiz show|stub|hint 52."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%quiz: {exc}\n{USAGE}") from None
        if not words or words[0] in ("help", "-h", "--help"):
            print(USAGE)
            return None
        args = _parser().parse_args(words)
        if args.command == "submit":
            if cell is None:
                raise UsageError("%quiz submit grades a cell: start the cell with `%%quiz submit "
                                 f"{args.question}` and put your code below it")
            return self.submit(cell, args)
        if cell is not None:
            raise UsageError(f"%%quiz {args.command} takes no cell; use the line magic: %quiz {line.strip()}")
        return getattr(self, args.command)(args)

    def submit(self, source: str, args) -> ReportView:
        from quizgen.api import grade
        from quizgen.grading.report import Report

        _question(args.question, coding=True)
        if args.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise UsageError("--device cuda: no CUDA device is available here")
        try:
            report = grade(source, args.question, device=args.device, seed=args.seed, record=not args.no_record,
                           name=CELL_NAME)
        except UnusableSubmission as exc:
            report = Report(question_id=args.question, file=CELL_NAME, gradable=False, message=str(exc),
                            isolation="not run", device=args.device, seed=args.seed)
        return ReportView(report, verbose=args.verbose)

    def show(self, args) -> None:
        from quizgen.ui import show_question

        show_question(_console(), _question(args.question))

    def stub(self, args) -> None:
        coding = _question(args.question, coding=True).coding
        self.shell.set_next_input(f"%%quiz submit {args.question}\n{coding.stub}", replace=False)
        print(f"The stub of question {args.question} is in the next cell: implement "
              f"{', '.join(coding.functions)}, then run that cell to grade it.")

    def hint(self, args) -> None:
        from quizgen.store import open_store
        from quizgen.ui import hint_view, hints_view

        question = _question(args.question)
        hints = question.coding.hints if question.coding else []
        if not hints:
            raise UsageError(f"question {args.question} has no hints")
        try:
            store = open_store()
        except QuizgenError as exc:
            raise UsageError(str(exc)) from None
        out = _console()
        shown = min(store.hints_used(question.id), len(hints))
        if args.show_all:
            if shown == 0:
                print(f"No hint revealed yet for question {question.id}: `%quiz hint {question.id}` shows the first.")
                return
            out.print(hints_view(question.id, hints, shown))
        elif shown < len(hints):
            store.record_hint(question.id, shown)
            shown += 1
            out.print(hint_view(question.id, hints, shown))
        if shown >= len(hints):
            print(f"No more hints: all {len(hints)} are revealed (`%quiz hint {question.id} --all` shows them).")
        else:
            print(f"{len(hints) - shown} more: `%quiz hint {question.id}`.")
