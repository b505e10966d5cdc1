"""The question bank: pydantic models and the YAML loader. Never imports torch."""

from quizgen.bank.loader import load_bank, load_question
from quizgen.bank.models import Bank, Question

__all__ = ["Bank", "Question", "load_bank", "load_question"]
