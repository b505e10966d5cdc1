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


def test_the_bundled_first_failure_hints_name_existing_files():
    """The bank ships which test caught each known-wrong file last time; a stale entry only costs time,
    but one for a file that no longer exists says the file was not refreshed (solutions/README.md)."""
    import json

    from quizgen.grading.validate import BUNDLED_HINTS
    from quizgen.paths import solutions_dir

    hints = json.loads((solutions_dir() / BUNDLED_HINTS).read_text(encoding="utf-8"))
    files = {f"{q.id}/{w.name}" for q in load_bank().questions for w in Task.of(q).known_wrong}
    files |= {f"{q.id}/{p.name}" for q in load_bank().questions for _, p in Task.of(q).rewrites}
    assert set(hints) <= files, sorted(set(hints) - files)[:5]
    assert len(hints) >= 0.9 * len(files), "refresh the hints: run quiz validate with an empty QUIZGEN_HOME"


def test_misleading_hints_change_no_verdict(runner, tmp_path, monkeypatch):
    """Hints only order the tests: naming a test that passes for every file (or none that exists)
    still rejects every known-wrong file and keeps the reference at 100."""
    import json

    from quizgen.paths import user_home

    question = load_bank().get(65)
    task = Task.of(question)
    names = [w.name for w in task.known_wrong] + [p.name for _, p in task.rewrites]
    cache = user_home() / "cache" / "validate-first-failures.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({f"65/{n}": ["test_no_such_test", "test_kv_cache_bytes_random_sizes"] for n in names}))
    result = runner.invoke(cli, ["validate", "65", "--seed", "11"])
    assert result.exit_code == 0, result.output
    assert f"{len(task.known_wrong)}/{len(task.known_wrong)}" in result.output
