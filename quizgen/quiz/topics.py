"""Which questions a ``--topic`` names, for every command that takes one (list, start, export).

A topic matches, in this order: a question's number (``52``); a topic or question slug, ignoring case
(``MoE``); the start of one (``flash`` for ``flash-attention``), or the start of a word in one
(``attention``). Nothing matching is an error that suggests the nearest topics. It works on
anything with an ``id``, ``slug`` and ``topics`` (question models, or `quiz list`'s JSON index).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from quizgen.errors import QuizgenError

T = TypeVar("T")


class UnknownTopic(QuizgenError):
    """No question matches the topic; the message suggests the nearest ones."""


def _get(entry, name: str):
    return entry[name] if isinstance(entry, dict) else getattr(entry, name)


def _names(entry) -> list[str]:
    return [_get(entry, "slug"), *_get(entry, "topics")]


def matching(query: str, questions: Sequence[T]) -> list[T]:
    """The questions ``query`` names, in their order; UnknownTopic when there are none."""
    wanted = query.strip().lower()
    if wanted.isdigit():
        found = [q for q in questions if _get(q, "id") == int(wanted)]
        if found:
            return found
        numbers = sorted(_get(q, "id") for q in questions)
        span = f"{numbers[0]}-{numbers[-1]}" if numbers else "none"
        raise UnknownTopic(f"no question {int(wanted)} in the bank (the questions are {span}); see `quiz list`")
    for test in (lambda name: name == wanted, lambda name: name.startswith(wanted),
                 lambda name: len(wanted) >= 3 and any(word.startswith(wanted) for word in name.split("-"))):
        found = [q for q in questions if any(test(name.lower()) for name in _names(q))]
        if found:
            return found
    raise UnknownTopic(_no_match(query, questions))


def _no_match(query: str, questions: Sequence) -> str:
    import difflib

    names = list(dict.fromkeys(name for q in questions for name in _get(q, "topics")))
    names += [s for s in (_get(q, "slug") for q in questions) if s not in names]
    near = difflib.get_close_matches(query.strip().lower(), names, n=3, cutoff=0.6)
    if near:
        choices = near[0] if len(near) == 1 else f"{', '.join(near[:-1])} or {near[-1]}"
        return f"no question has topic '{query}'; did you mean {choices}? (see `quiz topics`)"
    return f"no question has topic '{query}'; see `quiz topics`"
