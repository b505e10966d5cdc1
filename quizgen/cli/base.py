"""The `quiz` command group and what its commands share: loading the bank and the store, turning
library errors into click errors (exit code 2 for an unusable file or argument)."""

from __future__ import annotations

import click

from quizgen.errors import QuizgenError


class UnusableInput(click.ClickException):
    """A file or argument that cannot be used at all: exit code 2, as for a usage error."""

    exit_code = 2


def load_bank_or_fail():
    from quizgen.bank import load_bank

    try:
        return load_bank()
    except QuizgenError as exc:
        raise click.ClickException(str(exc)) from None


def load_question_or_fail(question_id: int):
    """One question, reading only its own file when it can (the whole bank costs ten times more)."""
    from quizgen.bank import load_bank_for

    try:
        bank = load_bank_for(question_id)
    except QuizgenError as exc:
        raise click.ClickException(str(exc)) from None
    return question_or_fail(bank, question_id)


def question_or_fail(bank, question_id: int):
    try:
        return bank.get(question_id)
    except QuizgenError as exc:
        raise UnusableInput(str(exc)) from None


def open_store_or_fail():
    from quizgen.store import open_store

    try:
        store = open_store()
    except QuizgenError as exc:
        raise click.ClickException(str(exc)) from None
    for notice in store.notices:
        click.echo(f"Warning: {notice}", err=True)
    return store


def console_out():
    from quizgen.ui import console

    return console()


@click.group()
@click.version_option(package_name="quizgen")
def cli() -> None:
    """quizgen: study and practise LLM-architecture interview questions 51-65.

    \b
    Start with:  quiz list            browse the questions
                 quiz start --topic moe   concept quiz, then a coding stub
                 quiz submit moe.py   grade your implementation
    """
