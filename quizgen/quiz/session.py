"""The interactive quiz: ask each concept item, say right or wrong with the explanation, record it.

Input and output go through two small callables so the session is tested with plain strings;
every answer is written to the store as soon as it is given, so quitting loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from quizgen.bank.models import ChoiceItem, FlashcardItem, MultiItem, NumericItem, Question
from quizgen.quiz import scoring


class EndOfInput(Exception):
    """The user closed the input (Ctrl-D) or typed 'q'."""


Ask = Callable[[str], str]


@dataclass
class SessionResult:
    asked: int = 0
    correct: int = 0


def _ask_until_valid(ask: Ask, prompt: str, score: Callable[[str], scoring.Verdict], say) -> scoring.Verdict:
    while True:
        text = ask(prompt)
        if text.strip().lower() in ("q", "quit"):
            raise EndOfInput
        try:
            return score(text)
        except ValueError as exc:
            say(f"[yellow]{exc}[/yellow]")


def ask_item(question: Question, item, ask: Ask, say) -> scoring.Verdict:
    say(f"\n[bold]Q{question.id} · {item.id}[/bold] ({item.kind})\n{item.prompt}")
    if isinstance(item, (ChoiceItem, MultiItem)):
        for i, option in enumerate(item.options, 1):
            say(f"  {i}. {option.text}")
        if isinstance(item, ChoiceItem):
            return _ask_until_valid(ask, "Your answer (number)", lambda t: scoring.score_choice(item, t), say)
        return _ask_until_valid(ask, "Your answers (numbers separated by commas)",
                                lambda t: scoring.score_multi(item, t), say)
    if isinstance(item, NumericItem):
        unit = f" in {item.unit}" if item.unit else ""
        return _ask_until_valid(ask, f"Your answer{unit}", lambda t: scoring.score_numeric(item, t), say)
    if isinstance(item, FlashcardItem):
        ask("Recall the answer, then press Enter to see it")
        say(f"[cyan]{item.answer}[/cyan]")

        def rate(text: str) -> scoring.Verdict:
            if text.strip().lower() not in ("y", "yes", "n", "no"):
                raise ValueError("type y or n")
            return scoring.score_flashcard(item, text.strip().lower().startswith("y"))

        return _ask_until_valid(ask, "Did you know it? [y/n]", rate, say)
    raise TypeError(f"unknown item kind {item.kind}")


def run_session(questions: list[Question], ask: Ask, say, record) -> SessionResult:
    """Ask every concept item of ``questions``; ``record(question, item, verdict)`` stores each answer."""
    result = SessionResult()
    for question in questions:
        say(f"\n[bold magenta]Question {question.id}: {question.title}[/bold magenta]")
        for item in question.concepts:
            verdict = ask_item(question, item, ask, say)
            record(question, item, verdict)
            result.asked += 1
            result.correct += verdict.correct
            if not isinstance(item, FlashcardItem):
                mark = "[green]Right.[/green]" if verdict.correct else f"[red]Not quite: the answer is {verdict.expected}.[/red]"
                say(mark)
            say(f"[dim]{item.explanation.strip()}[/dim]")
    return result
