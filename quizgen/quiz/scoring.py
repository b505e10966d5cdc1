"""Scoring one answer to a concept item. Pure functions: parsing errors are ValueErrors with a hint."""

from __future__ import annotations

import re
from dataclasses import dataclass

from quizgen.bank.models import ChoiceItem, FlashcardItem, MultiItem, NumericItem


@dataclass(frozen=True)
class Verdict:
    correct: bool
    response: str  # normalized, as stored
    expected: str  # the right answer, as shown to the user


def _option_numbers(text: str, count: int) -> list[int]:
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts:
        raise ValueError(f"type a number from 1 to {count}")
    numbers = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= count:
            raise ValueError(f"'{part}' is not an option: type a number from 1 to {count}")
        numbers.append(int(part))
    return sorted(set(numbers))


def parse_number(text: str) -> float:
    cleaned = text.strip().replace(",", "").replace("_", "").rstrip("%").strip()
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f"'{text.strip()}' is not a number (examples: 0.5, 1e9, 4096)") from None


def score_choice(item: ChoiceItem, text: str) -> Verdict:
    numbers = _option_numbers(text, len(item.options))
    if len(numbers) != 1:
        raise ValueError("pick exactly one option")
    right = next(i for i, o in enumerate(item.options, 1) if o.correct)
    return Verdict(numbers[0] == right, str(numbers[0]), str(right))


def score_multi(item: MultiItem, text: str) -> Verdict:
    numbers = _option_numbers(text, len(item.options))
    right = [i for i, o in enumerate(item.options, 1) if o.correct]
    return Verdict(numbers == right, ",".join(map(str, numbers)), ",".join(map(str, right)))


def score_numeric(item: NumericItem, text: str) -> Verdict:
    value = parse_number(text)
    return Verdict(item.accepts(value), repr(value), f"{item.answer:g}{item.unit and ' ' + item.unit}")


def score_flashcard(item: FlashcardItem, knew_it: bool) -> Verdict:
    return Verdict(knew_it, "knew it" if knew_it else "did not know", item.answer)
