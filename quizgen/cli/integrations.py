"""Commands that take quizgen where people already work: Gradescope."""

from __future__ import annotations

from pathlib import Path

import click

from quizgen.cli.base import UnusableInput, cli, load_question_or_fail


@cli.command()
@click.argument("question_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="The zip to write.")
@click.option("--file", "file_name", metavar="NAME",
              help="Grade only this file of the submission (default: every .py file, the best one counts).")
@click.option("--visibility", type=click.Choice(["visible", "after_due_date", "after_published", "hidden"]),
              default="visible", show_default=True, help="When students see the tests' results.")
@click.option("--wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The quizgen wheel to put in the zip (default: built from this checkout).")
def gradescope(question_id: int, output: Path, file_name: str | None, visibility: str, wheel: Path | None) -> None:
    """Write a Gradescope autograder for a question's coding task. Example: quiz gradescope 58 -o autograder.zip

    Upload the zip as a programming assignment's autograder. setup.sh installs torch's CPU build and
    quizgen; run_autograder grades the student's .py file in the sandbox (the isolation mode and the
    seed are in every result).
    """
    from quizgen.gradescope.build import (
        AutograderConfig,
        AutograderError,
        write_autograder,
    )

    question = load_question_or_fail(question_id)
    if question.coding is None:
        raise UnusableInput(f"question {question_id} has no coding task")
    if file_name is not None and (Path(file_name).name != file_name or not file_name.endswith(".py")):
        raise UnusableInput(f"--file {file_name}: give a file name ending in .py, without a folder")
    config = AutograderConfig(question=question_id, file=file_name, visibility=visibility)
    try:
        write_autograder(output, config, wheel)
    except AutograderError as exc:
        raise click.ClickException(str(exc)) from None
    graded = file_name or f"the submission's .py files (e.g. {question.coding.stub_file})"
    click.echo(f"Wrote {output}: question {question_id} ({question.slug}), grading {graded}. Upload it as the "
               "autograder of a Gradescope programming assignment.")
