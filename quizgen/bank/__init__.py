"""The question bank: pydantic models and the YAML loader. Never imports torch.

Names load on first use, so that `quiz list` (which reads quizgen.bank.index) skips pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quizgen.bank.loader import load_bank, load_bank_for, load_question
    from quizgen.bank.models import Bank, Question

__all__ = ["Bank", "Question", "load_bank", "load_bank_for", "load_question"]


def __getattr__(name: str):
    if name in ("load_bank", "load_bank_for", "load_question"):
        from quizgen.bank import loader

        return getattr(loader, name)
    if name in ("Bank", "Question"):
        from quizgen.bank import models

        return getattr(models, name)
    raise AttributeError(name)
