"""The question file's schema. ``extra="forbid"`` everywhere so a typo is an error, not a silent default."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    field_validator,
    model_validator,
)

Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
ItemId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pitfall(Strict):
    claim: str = Field(min_length=1)
    correction: str = Field(min_length=1)


class Reference(Strict):
    title: str = Field(min_length=1)
    authors: str = Field(min_length=1)
    year: int = Field(ge=1800, le=2100)
    url: HttpUrl


class Option(Strict):
    text: str = Field(min_length=1)
    correct: bool = False


class _Item(Strict):
    id: ItemId
    prompt: str = Field(min_length=1)
    explanation: str = Field(min_length=1)


class ChoiceItem(_Item):
    """One right option among several."""

    kind: Literal["choice"]
    options: list[Option] = Field(min_length=2)

    @model_validator(mode="after")
    def _exactly_one_correct(self) -> ChoiceItem:
        if sum(o.correct for o in self.options) != 1:
            raise ValueError("a choice item needs exactly one option with correct: true")
        return self


class MultiItem(_Item):
    """Every right option must be picked, and no wrong one."""

    kind: Literal["multi"]
    options: list[Option] = Field(min_length=2)

    @model_validator(mode="after")
    def _at_least_one_correct(self) -> MultiItem:
        if not any(o.correct for o in self.options):
            raise ValueError("a multi item needs at least one option with correct: true")
        return self


class Derivation(Strict):
    """How a numeric answer follows from the facts, so a test can recompute it instead of trusting it.

    Either ``expression`` (plain arithmetic, names from ``math`` allowed) or ``function`` with ``args``:
    a function of this question's reference kernels (solutions/NN_slug/reference.py).
    """

    expression: str | None = None
    function: Identifier | None = None
    args: dict[str, int | float | bool | list[int] | list[list[int]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_way(self) -> Derivation:
        if (self.expression is None) == (self.function is None):
            raise ValueError("a derivation needs exactly one of 'expression' or 'function'")
        return self


class NumericItem(_Item):
    """A number. Right when within ``rel_tolerance`` of ``answer`` (by default 0.5%, so the answer
    rounded to three significant figures is always accepted), or exactly ``answer`` when ``exact``
    (counts: bytes, blocks, layers). The prompt shown to the user says which form is expected."""

    kind: Literal["numeric"]
    answer: float
    exact: bool = False
    rel_tolerance: float = Field(default=0.005, ge=0.005, le=0.5)
    unit: str = ""
    derivation: Derivation | None = None

    @model_validator(mode="after")
    def _exact_means_integer(self) -> NumericItem:
        if self.exact and self.answer != int(self.answer):
            raise ValueError("an exact answer must be a whole number (use rel_tolerance for others)")
        return self

    def accepts(self, value: float) -> bool:
        if self.exact:
            return value == self.answer
        return abs(value - self.answer) <= self.rel_tolerance * abs(self.answer) * (1 + 1e-9) + 1e-12

    @property
    def expected_form(self) -> str:
        """What the prompt tells the user to type, e.g. "an exact whole number of bytes"."""
        unit = f" in {self.unit}" if self.unit else ""
        if self.exact:
            return f"an exact whole number{unit}"
        percent = f"{self.rel_tolerance * 100:g}%"
        return f"a number{unit}; within {percent} counts (3 significant figures are enough)"


class FlashcardItem(_Item):
    """Self-rated: the user recalls the answer, sees it, and says whether they knew it."""

    kind: Literal["flashcard"]
    answer: str = Field(min_length=1)


class DesignItem(_Item):
    """An open interview prompt: the user answers in their own words, then ticks off the rubric's
    points against the model answer; the fraction ticked becomes the review rating."""

    kind: Literal["design"]
    answer: str = Field(min_length=1, description="the model answer (Markdown)")
    rubric: list[Annotated[str, Field(min_length=1)]] = Field(min_length=4, max_length=6)


class BugItem(_Item):
    """Spot the bug: a short snippet shown with numbered lines; the user names the line that is wrong.
    ``also_accept`` lists other lines that are equally right (a bug that spans two lines)."""

    kind: Literal["spot-the-bug"]
    code: str = Field(min_length=1)
    bug_line: int = Field(ge=1)
    also_accept: list[int] = Field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.code.rstrip("\n").splitlines()

    @model_validator(mode="after")
    def _lines_exist(self) -> BugItem:
        count = len(self.lines)
        for line in (self.bug_line, *self.also_accept):
            if not 1 <= line <= count:
                raise ValueError(f"line {line} is not in the snippet (it has {count} lines)")
        return self


ConceptItem = Annotated[
    ChoiceItem | MultiItem | NumericItem | FlashcardItem | DesignItem | BugItem, Field(discriminator="kind")
]


class Coding(Strict):
    """The coding task: the stub handed to the user and the limits its grading runs under."""

    stub_file: str = Field(pattern=r"^[a-z0-9_]+\.py$")
    functions: list[Identifier] = Field(min_length=1)
    stub: str = Field(min_length=1)
    hints: list[str] = Field(default_factory=list)
    allowed_imports: list[str] = Field(default_factory=lambda: ["torch", "math"])
    forbidden_ops: list[str] = Field(default_factory=list)
    # Modules the grading workers import before the first call (a task whose functions use
    # torch.utils.checkpoint pays torch._dynamo's import once, not in every worker).
    preload: list[str] = Field(default_factory=list)
    time_limit_s: float = Field(default=20.0, gt=0, le=600)
    memory_limit_mb: int = Field(default=4096, ge=256)

    @model_validator(mode="after")
    def _stub_defines_functions(self) -> Coding:
        missing = [f for f in self.functions if not re.search(rf"^def {f}\(", self.stub, re.MULTILINE)]
        if missing:
            raise ValueError(f"the stub does not define {', '.join(missing)}")
        return self


class Question(Strict):
    id: int = Field(ge=1, le=9999)
    slug: Slug
    title: str = Field(min_length=1)
    topics: list[Slug] = Field(min_length=1)
    difficulty: Literal["easy", "medium", "hard"]
    answer: str = ""
    pitfalls: list[Pitfall] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    concepts: list[ConceptItem] = Field(default_factory=list)
    coding: Coding | None = None

    @field_validator("concepts")
    @classmethod
    def _unique_item_ids(cls, items: list) -> list:
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise ValueError(f"concept id {item.id!r} is used twice")
            seen.add(item.id)
        return items

    @property
    def folder_name(self) -> str:
        """The name of this question's folder under solutions/: ``52_moe``."""
        return f"{self.id}_{self.slug.replace('-', '_')}"


class Bank(BaseModel):
    """All questions, in id order."""

    model_config = ConfigDict(frozen=True)
    questions: list[Question]

    def get(self, question_id: int) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        known = ", ".join(str(q.id) for q in self.questions)
        from quizgen.errors import QuizgenError

        raise QuizgenError(f"no question {question_id} in the bank (known: {known})")

    def by_topic(self, topic: str | None) -> list[Question]:
        if topic is None:
            return list(self.questions)
        return [q for q in self.questions if topic in q.topics or topic == q.slug]

    def topics(self) -> dict[str, list[int]]:
        """Each topic slug with the ids of its questions, in first-seen order."""
        out: dict[str, list[int]] = {}
        for q in self.questions:
            for t in q.topics:
                out.setdefault(t, []).append(q.id)
        return out
