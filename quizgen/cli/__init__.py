"""The `quiz` command. Commands only parse, call one service and render; browsing never imports torch."""

from quizgen.cli import (  # noqa: F401 - registers the commands
    grading,
    integrations,
    study,
)
from quizgen.cli.base import cli

__all__ = ["cli", "main"]


def main() -> None:
    cli()
