"""Correct implementations adapted from public code (tests/correct/NN_slug/*.py, each naming its
source) score 100 and are never diagnosed with a known mistake.

Each file is written differently from the task's reference (HF transformers, Meta's llama, PEFT,
loralib, bitsandbytes, Megatron-LM, torchtitan, torch.utils.checkpoint, flash-attn, PyTorch's
observers, torch.nn.utils.prune, vLLM...: other ops, other orders, loops instead of vectorized code,
and conventions the contract allows, such as a rank-mismatch message that names A instead of r).
A hidden suite that refuses one of them is stricter than its contract. Each is graded on two fresh
seeds, so a verdict that depends on the seed shows up over repeated runs.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from quizgen.grading.runner import check_file, grade_checked, grading_launcher

CORRECT = Path(__file__).parent / "correct"
TASKS = sorted(p.name for p in CORRECT.iterdir() if p.is_dir())
FILES = [path for task in TASKS for path in sorted((CORRECT / task).glob("*.py"))]


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QUIZGEN_HOME", str(tmp_path_factory.mktemp("home-for-correct-files")))
        with grading_launcher([CORRECT]) as instance:
            yield instance


def test_every_task_has_two_to_four_correct_files(bank):
    assert len(TASKS) == len([q for q in bank.questions if q.coding])
    for task in TASKS:
        count = len(list((CORRECT / task).glob("*.py")))
        assert 2 <= count <= 4, f"tests/correct/{task} holds {count} files"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_correct_file_scores_100_on_two_fresh_seeds(launcher, bank, path):
    checked = check_file(path, bank, None)  # the header names the question
    assert checked.question.id == int(path.parent.name[:2])
    for seed in (secrets.randbits(31), secrets.randbits(31)):
        report = grade_checked(checked, launcher, seed=seed)
        failing = "; ".join(f"{t.title}: {t.message[:400]}" for t in report.failing[:3]) or report.message
        assert report.gradable and report.score == 100, f"{path.name} scores {report.score:g} on seed {seed}: {failing}"
        assert not any(t.diagnosis for t in report.tests), f"{path.name} was diagnosed with a known mistake"
