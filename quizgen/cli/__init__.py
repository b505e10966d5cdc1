"""The `quiz` command. Commands only parse, call one service and render; browsing never imports torch."""

from quizgen.cli import grading, study  # noqa: F401 - registers the commands
from quizgen.cli import integrations  # noqa: F401 - registers the commands
from quizgen.cli.base import cli

__all__ = ["cli", "main"]


def main() -> None:
    cli()
