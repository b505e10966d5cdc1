"""Scoring one answer to a concept item, and the review rating it earns. Pure functions: an answer
that cannot be read is a ValueError whose message says what to type.

Choice and multi-select options are shown in a fresh random order each time (``shuffled_order``);
the numbers the user types refer to that order, and the verdict keeps both the order shown and the
texts chosen, so a stored answer says what was picked, not just where it stood.

Ratings (they go to FSRS as Again=1, Hard=2, Good=3, Easy=4):

- flashcard: the user's own rating, as in Anki;
- choice, multi, numeric, spot-the-bug: Good when right, Again when wrong;
- design: by the fraction of rubric points the user says their answer covered: all of them Easy,
  at least 3/4 Good, at least 1/2 Hard, fewer Again.

An answer counts as right (``Verdict.correct``) when it is rated Hard or better.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from quizgen.bank.models import (
    BugItem,
    ChoiceItem,
    DesignItem,
    FlashcardItem,
    MultiItem,
    NumericItem,
)


class Rating(IntEnum):
    """The four review ratings, numbered as FSRS (and Anki) number them."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4

    @property
    def label(self) -> str:
        return self.name.capitalize()


RATING_WORDS = {"1": Rating.AGAIN, "a": Rating.AGAIN, "again": Rating.AGAIN, "2": Rating.HARD, "h": Rating.HARD,
                "hard": Rating.HARD, "3": Rating.GOOD, "g": Rating.GOOD, "good": Rating.GOOD, "4": Rating.EASY,
                "e": Rating.EASY, "easy": Rating.EASY}


@dataclass(frozen=True)
class Verdict:
    correct: bool
    response: str  # what the user answered, normalized, as stored
    expected: str  # the right answer, as shown to the user (Markdown)
    rating: Rating
    shown_order: tuple[int, ...] = ()  # choice/multi: the options' indices in the file, in the order shown
    chosen: tuple[str, ...] = ()  # the texts the user picked: options, or the rubric points they covered
    right_numbers: tuple[int, ...] = ()  # choice/multi: the right options' numbers in the order shown


def _right_or_wrong(correct: bool) -> Rating:
    return Rating.GOOD if correct else Rating.AGAIN


def shuffled_order(count: int, rng: random.Random) -> tuple[int, ...]:
    """A fresh random order of ``count`` options (their indices in the file)."""
    return tuple(rng.sample(range(count), count))


def format_number(value: float) -> str:
    """A float as written by a person: 27.66, 2, 0.000001 (never 1e-06 or 2.0)."""
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _numbers(text: str, count: int, what: str = "an option") -> list[int]:
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts:
        raise ValueError(f"type a number from 1 to {count}")
    numbers = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= count:
            raise ValueError(f"'{part}' is not {what}: type a number from 1 to {count}")
        numbers.append(int(part))
    return sorted(set(numbers))


def _check_order(order: tuple[int, ...], count: int) -> None:
    if sorted(order) != list(range(count)):
        raise ValueError(f"not an order of {count} options: {order}")


def score_choice(item: ChoiceItem, text: str, order: tuple[int, ...]) -> Verdict:
    """``text`` names one option by its number in ``order`` (the order shown)."""
    _check_order(order, len(item.options))
    numbers = _numbers(text, len(item.options))
    if len(numbers) != 1:
        raise ValueError("pick exactly one option")
    chosen = item.options[order[numbers[0] - 1]]
    right = next(n for n, i in enumerate(order, 1) if item.options[i].correct)
    return Verdict(chosen.correct, str(numbers[0]), item.options[order[right - 1]].text,
                   _right_or_wrong(chosen.correct), order, (chosen.text,), (right,))


def score_multi(item: MultiItem, text: str, order: tuple[int, ...]) -> Verdict:
    """``text`` names every right option by its number in ``order``; right only if exactly those."""
    _check_order(order, len(item.options))
    numbers = _numbers(text, len(item.options))
    right = [n for n, i in enumerate(order, 1) if item.options[i].correct]
    correct = numbers == right
    expected = "; ".join(item.options[order[n - 1]].text for n in right)
    return Verdict(correct, ",".join(map(str, numbers)), expected, _right_or_wrong(correct), order,
                   tuple(item.options[order[n - 1]].text for n in numbers), tuple(right))


def parse_number(text: str, unit: str = "") -> float:
    """A number as people type it: ``0.5``, ``1e9``, ``4,096``, ``27.7%``, ``12 GB`` (the item's own unit)."""
    cleaned = text.strip()
    if unit and cleaned.lower().endswith(unit.lower()):
        cleaned = cleaned[: -len(unit)]
    cleaned = cleaned.replace(",", "").replace("_", "").replace(" ", "").rstrip("%")
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f"'{text.strip()}' is not a number (examples: 0.5, 1e9, 4096)") from None


def expected_number(item: NumericItem) -> str:
    return format_number(item.answer) + (f" {item.unit}" if item.unit else "")


def score_numeric(item: NumericItem, text: str) -> Verdict:
    value = parse_number(text, item.unit)
    correct = item.accepts(value)
    return Verdict(correct, format_number(value), expected_number(item), _right_or_wrong(correct))


def parse_rating(text: str) -> Rating:
    rating = RATING_WORDS.get(text.strip().lower())
    if rating is None:
        raise ValueError("type 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy)")
    return rating


def score_flashcard(item: FlashcardItem, text: str) -> Verdict:
    """The user's own rating of how well they recalled the answer."""
    rating = parse_rating(text)
    return Verdict(rating >= Rating.HARD, rating.label.lower(), item.answer, rating)


def bug_lines(item: BugItem) -> list[int]:
    return sorted({item.bug_line, *item.also_accept})


def score_bug(item: BugItem, text: str) -> Verdict:
    """``text`` names a line of the snippet (``7``, ``line 7``, ``L7``)."""
    count = len(item.lines)
    match = re.fullmatch(r"\s*(?:line|l)?\s*(\d+)\s*", text, flags=re.IGNORECASE)
    if not match or not 1 <= int(match.group(1)) <= count:
        raise ValueError(f"'{text.strip()}' is not a line of the snippet: type a number from 1 to {count}")
    line = int(match.group(1))
    right = bug_lines(item)
    correct = line in right
    expected = "line " + " or ".join(map(str, right))
    return Verdict(correct, f"line {line}", expected, _right_or_wrong(correct), chosen=(item.lines[line - 1],))


def design_rating(covered: int, total: int) -> Rating:
    fraction = covered / total
    if fraction >= 1:
        return Rating.EASY
    if fraction >= 0.75:
        return Rating.GOOD
    if fraction >= 0.5:
        return Rating.HARD
    return Rating.AGAIN


def score_design(item: DesignItem, written: str, ticked: str) -> Verdict:
    """``ticked``: the rubric points covered, by number (``1,3``), ``all``, or nothing for none."""
    total = len(item.rubric)
    if ticked.strip().lower() in ("all", "a"):
        points = list(range(1, total + 1))
    elif not ticked.strip() or ticked.strip().lower() in ("none", "0", "-"):
        points = []
    else:
        points = _numbers(ticked, total, "a rubric point")
    rating = design_rating(len(points), total)
    return Verdict(rating >= Rating.HARD, written.strip(), item.answer, rating,
                   chosen=tuple(item.rubric[p - 1] for p in points))
