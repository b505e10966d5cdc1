"""The interactive quiz: ask each concept item, say right or wrong with the explanation, record it.

Input and output go through two small callables (``ask`` returns a line the user typed, ``say``
prints a rich renderable or markup string), so the same code serves `quiz start`, `quiz review` and
the tests. Every answer is handed to ``record`` as soon as it is given, so quitting loses nothing.
Options are shuffled afresh each time an item is shown (``presentation_rng``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Group
from rich.markup import escape
from rich.padding import Padding
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from quizgen.bank.models import (
    BugItem,
    ChoiceItem,
    DesignItem,
    FlashcardItem,
    MultiItem,
    NumericItem,
    Question,
)
from quizgen.prose import inline, markdown
from quizgen.quiz import scoring
from quizgen.quiz.scoring import Rating, Verdict

KIND_NAMES = {"choice": "one answer", "multi": "several answers", "numeric": "a number", "flashcard": "flashcard",
              "design": "design question", "spot-the-bug": "spot the bug"}
QUIT_WORDS = ("q", "quit")


class EndOfInput(Exception):
    """The user closed the input (Ctrl-D) or typed 'q'."""


Ask = Callable[[str], str]
Say = Callable[[object], None]


def presentation_rng() -> random.Random:
    """Where the order of the options comes from: fresh randomness (tests replace it with a seeded one)."""
    return random.Random()


@dataclass
class SessionResult:
    asked: int = 0
    correct: int = 0


def _ask_until_valid(ask: Ask, prompt: str, score: Callable[[str], Verdict], say: Say) -> Verdict:
    while True:
        text = ask(prompt)
        if text.strip().lower() in QUIT_WORDS:
            raise EndOfInput
        try:
            return score(text)
        except ValueError as exc:
            say(f"[yellow]{escape(str(exc))}[/yellow]")


def _ask_line(ask: Ask, prompt: str) -> str:
    text = ask(prompt)
    if text.strip().lower() in QUIT_WORDS:
        raise EndOfInput
    return text


def numbered(entries: list[str], numbers: list[int] | None = None) -> Padding:
    """``1. text`` lines (Markdown with maths), wrapped lines hanging under the text."""
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", style="bold", no_wrap=True)
    table.add_column()
    for n, entry in zip(numbers or range(1, len(entries) + 1), entries):
        table.add_row(f"{n}.", inline(entry))
    return Padding(table, (0, 0, 0, 2), expand=False)


def code_with_line_numbers(code: str) -> Syntax:
    return Syntax(code.rstrip("\n"), "python", line_numbers=True, theme="ansi_dark", background_color="default",
                  word_wrap=True)


def ask_item(question: Question, item, ask: Ask, say: Say, rng: random.Random | None = None) -> Verdict:
    """Show ``item``, read the answer (asking again until it can be read) and return its verdict."""
    rng = rng or presentation_rng()
    say(Text.assemble(("\n" + f"Q{question.id} · {item.id}", "bold"), f" ({KIND_NAMES.get(item.kind, item.kind)})"))
    say(markdown(item.prompt))
    if isinstance(item, (ChoiceItem, MultiItem)):
        order = scoring.shuffled_order(len(item.options), rng)
        say(numbered([item.options[i].text for i in order]))
        count = len(item.options)
        if isinstance(item, ChoiceItem):
            return _ask_until_valid(ask, f"Your answer (1-{count})", lambda t: scoring.score_choice(item, t, order),
                                    say)
        return _ask_until_valid(ask, f"Your answers (numbers from 1 to {count}, separated by commas)",
                                lambda t: scoring.score_multi(item, t, order), say)
    if isinstance(item, NumericItem):
        say(f"[dim]Expected: {escape(item.expected_form)}.[/dim]")
        return _ask_until_valid(ask, "Your answer", lambda t: scoring.score_numeric(item, t), say)
    if isinstance(item, FlashcardItem):
        _ask_line(ask, "Recall the answer, then press Enter to see it")
        say(markdown(item.answer, style="cyan"))
        return _ask_until_valid(ask, "How well did you know it? 1 Again, 2 Hard, 3 Good, 4 Easy",
                                lambda t: scoring.score_flashcard(item, t), say)
    if isinstance(item, BugItem):
        say(code_with_line_numbers(item.code))
        return _ask_until_valid(ask, f"Which line has the bug? (1-{len(item.lines)})",
                                lambda t: scoring.score_bug(item, t), say)
    if isinstance(item, DesignItem):
        written = _ask_line(ask, "Your answer in a few sentences (or think it through), then Enter")
        say(Text("Model answer", style="bold"))
        say(markdown(item.answer, style="cyan"))
        say(Text("Rubric: which of these points did your answer cover?", style="bold"))
        say(numbered(item.rubric))
        return _ask_until_valid(ask, "Points covered (numbers separated by commas, 'all', or Enter for none)",
                                lambda t: scoring.score_design(item, written, t), say)
    raise TypeError(f"unknown item kind {item.kind}")


def verdict_lines(item, verdict: Verdict) -> Group:
    """Right or wrong (with the right answer), then the explanation."""
    parts = []
    if isinstance(item, DesignItem):
        covered = len(verdict.chosen)
        parts.append(Text(f"You covered {covered} of {len(item.rubric)} points: rated {verdict.rating.label}.",
                          style="green" if verdict.correct else "red"))
    elif isinstance(item, FlashcardItem):
        parts.append(Text(f"Rated {verdict.rating.label}.", style="dim"))
    elif verdict.correct:
        parts.append(Text("Right.", style="green"))
    elif isinstance(item, (ChoiceItem, MultiItem)):
        parts.append(Text("Not quite. The answer:", style="red"))
        order = verdict.shown_order
        parts.append(numbered([item.options[order[n - 1]].text for n in verdict.right_numbers],
                              list(verdict.right_numbers)))
    else:
        parts.append(Text.assemble(("Not quite. ", "red"), "The answer: ", verdict.expected))
    parts.append(markdown(item.explanation.strip(), style="dim"))
    return Group(*parts)


def run_session(questions: list[Question], ask: Ask, say: Say, record,
                rng: random.Random | None = None) -> SessionResult:
    """Ask every concept item of ``questions``; ``record(question, item, verdict)`` stores each answer."""
    rng = rng or presentation_rng()
    result = SessionResult()
    for question in questions:
        say(Text("\n" + f"Question {question.id}: {question.title}", style="bold magenta"))
        for item in question.concepts:
            verdict = ask_item(question, item, ask, say, rng)
            record(question, item, verdict)
            result.asked += 1
            result.correct += verdict.correct
            say(verdict_lines(item, verdict))
    return result


__all__ = ["EndOfInput", "Rating", "SessionResult", "ask_item", "presentation_rng", "run_session", "verdict_lines"]
