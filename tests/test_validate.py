"""`quiz validate` over the whole bank, as CI runs it: for every task the reference scores 100 on
its hidden suite, the stub scores 0, and every known-wrong implementation (solutions/NN/wrong/)
fails at least one test. One launcher serves the whole bank, as in the CLI."""

from quizgen.bank import load_bank
from quizgen.cli import cli
from quizgen.grading.task import Task


def test_quiz_validate_passes_for_the_whole_bank(runner):
    result = runner.invoke(cli, ["validate", "-v"])
    print(result.output)
    assert result.exit_code == 0, result.output
    for question in load_bank().questions:
        assert f"{question.id} {question.slug}" in result.output


def test_every_task_has_at_least_five_known_wrong_implementations():
    counts = {q.id: len(Task.of(q).known_wrong) for q in load_bank().questions}
    assert all(n >= 5 for n in counts.values()), counts
