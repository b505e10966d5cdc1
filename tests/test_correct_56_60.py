"""Correct implementations of tasks 56-60, adapted from public code (tests/correct/NN_slug/*.py, each
naming its source), written differently from our references: each must score 100 on fresh seeds.
A correct file that loses points is a verdict the hidden suite got wrong."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from quizgen.bank import load_bank
from quizgen.grading.runner import check_file, grade_checked, grading_launcher

CORRECT = Path(__file__).resolve().parent / "correct"
TASKS = ("56_parallelism", "57_checkpointing", "58_flash_attention", "59_quantization", "60_quantization_modes")
FILES = sorted(path for task in TASKS for path in (CORRECT / task).glob("*.py"))
SEEDS_PER_FILE = 2


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QUIZGEN_HOME", str(tmp_path_factory.mktemp("quizgen-home")))
        with grading_launcher([CORRECT]) as launcher:
            yield launcher


def test_every_task_has_two_to_four_correct_files():
    for task in TASKS:
        count = len(list((CORRECT / task).glob("*.py")))
        assert 2 <= count <= 4, f"{task}: {count} correct files"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_correct_file_scores_100_on_fresh_seeds(launcher, path):
    question_id = int(path.parent.name.split("_")[0])
    checked = check_file(path, load_bank(), question_id)
    for _ in range(SEEDS_PER_FILE):
        seed = secrets.randbits(31)
        report = grade_checked(checked, launcher, seed=seed)
        failing = [f"{t.title}: {t.message.splitlines()[0] if t.message else t.status}" for t in report.failing]
        assert report.gradable and report.all_passed and report.score == 100, (
            f"{path.name} scored {report.score:g} on seed {seed}: " + "; ".join(failing[:3]) + (report.message or ""))
