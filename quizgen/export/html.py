"""The study sheet: one self-contained HTML file rendered from templates/ with Jinja2.

Self-contained means no request of any kind when the file is opened: the CSS is inlined, fonts are
the system's, formulas are MathML, code is highlighted ahead of time, there is no script, and a
Content-Security-Policy forbids loading anything. Autoescaping is on, so text from a question file is
always shown, never run; the only HTML that bypasses it comes from ``quizgen.export.markup``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Literal

from markupsafe import Markup

from quizgen.bank.models import Bank, Question
from quizgen.errors import QuizgenError
from quizgen.export import markup
from quizgen.export.cache import (
    FRAGMENTS_FILE,
    TEMPLATES_FOLDER,
    FragmentCache,
    default_cache_dir,
    template_bytecode_cache,
)
from quizgen.export.progress import QuestionProgress
from quizgen.paths import solutions_dir, templates_dir
from quizgen.quiz.scoring import bug_lines, format_number
from quizgen.quiz.topics import matching
from quizgen.times import format_time

SHEET_TEMPLATE = "sheet.html"
SHEET_CSS = "sheet.css"
KIND_LABELS = {"choice": "Single choice", "multi": "Multiple choice", "numeric": "Numeric",
               "flashcard": "Flashcard", "design": "Design", "spot-the-bug": "Spot the bug"}


@dataclass(frozen=True)
class ReferenceSolution:
    """The reference kernels of a question, or where they would be if they existed yet."""

    relative_path: str
    source: str | None


def select_questions(bank: Bank, topic: str | None = None, question_ids: Sequence[int] = ()) -> list[Question]:
    """The questions to export, in id order: those with ``topic`` (if given) among ``question_ids`` (if given)."""
    questions = matching(topic, bank.questions) if topic else list(bank.questions)  # UnknownTopic suggests
    if question_ids:
        wanted = {bank.get(i).id for i in question_ids}  # an unknown number raises, naming the known ones
        questions = [q for q in questions if q.id in wanted]
        if not questions:
            numbers = ", ".join(str(i) for i in sorted(wanted))
            which = f"question {numbers} does" if len(wanted) == 1 else f"questions {numbers} do"
            raise QuizgenError(f"{which} not have topic '{topic}'; drop --topic or pick another")
    return questions


def reference_solution(question: Question) -> ReferenceSolution:
    relative = f"solutions/{question.folder_name}/reference.py"
    path = solutions_dir() / question.folder_name / "reference.py"
    try:
        source = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        source = None
    return ReferenceSolution(relative, source)


def topic_index(questions: Sequence[Question]) -> list[tuple[str, list[Question]]]:
    """Each topic with its questions, topics in first-seen order (so by the id of their first question)."""
    index: dict[str, list[Question]] = {}
    for q in questions:
        for t in q.topics:
            index.setdefault(t, []).append(q)
    return list(index.items())


def contents(questions: Sequence[Question]) -> list[tuple[str, list[Question]]]:
    """The table of contents: questions grouped under their first (main) topic, each listed once."""
    groups: dict[str, list[Question]] = {}
    for q in questions:
        groups.setdefault(q.topics[0], []).append(q)
    return list(groups.items())


def concept_item(question: Question, item_id: str):
    """The concept item with this id, or None (the database may name an item since removed from the YAML)."""
    return next((item for item in question.concepts if item.id == item_id), None)


def _cached(kind: str, render):
    """A Jinja filter that renders through the export's FragmentCache (the ``fragments`` variable)."""
    from jinja2 import pass_context

    @pass_context
    def cached_filter(context, source: str) -> Markup:
        return context["fragments"].fetch(kind, source or "", render)

    return cached_filter


def _numbered_python():
    """A Jinja global: a snippet with line numbers, ``highlighted`` lines marked (spot-the-bug items)."""
    from jinja2 import pass_context

    @pass_context
    def numbered_python(context, source: str, highlighted: Sequence[int] = ()) -> Markup:
        kind = "python-numbered:" + ",".join(map(str, highlighted))
        return context["fragments"].fetch(
            kind, source, lambda text: markup.highlight_python(text, numbered=True, highlighted=highlighted))

    return numbered_python


@cache
def _environment(bytecode_dir: Path | None):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(templates_dir()), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      bytecode_cache=template_bytecode_cache(bytecode_dir) if bytecode_dir else None)
    env.filters.update(md=_cached("md", markup.markdown_block), md_inline=_cached("md-inline", markup.markdown_inline),
                       python=_cached("python", markup.highlight_python), number=format_number, when=format_time)
    env.globals.update(kind_labels=KIND_LABELS, concept_item=concept_item, numbered_python=_numbered_python(),
                       bug_lines=bug_lines)
    return env


def option_orders(questions: Sequence[Question], seed: str) -> dict[str, list[int]]:
    """Each choice/multi item's options in a shuffled order (``"52/item-id"`` -> indices in the file), so
    the right answer is not always first. Seeded by ``seed``: a new order per export, the same page for
    the same inputs."""
    orders = {}
    for q in questions:
        for item in q.concepts:
            if item.kind in ("choice", "multi"):
                rng = random.Random(f"{seed}/{q.id}/{item.id}")
                orders[f"{q.id}/{item.id}"] = rng.sample(range(len(item.options)), len(item.options))
    return orders


@cache
def _stylesheet() -> Markup:
    # Our own file, inlined as is; escaping would break CSS selectors such as "a > b".
    return Markup((templates_dir() / SHEET_CSS).read_text(encoding="utf-8"))


def render_sheet(questions: Sequence[Question], *, with_solutions: bool = False,
                 progress: Mapping[int, QuestionProgress] | None = None, title: str = "Study sheet",
                 subtitle: str = "", generated: datetime | None = None,
                 cache_dir: Path | Literal["default"] | None = "default") -> str:
    """The whole sheet as one HTML string. ``progress`` (from ``load_progress``) adds the user's state.

    ``cache_dir``: where rendered fragments and compiled templates are kept between exports
    (``quizgen.export.cache``; by default in the user's data dir). ``None`` renders everything afresh
    and writes nothing; the page is the same either way.
    """
    if cache_dir == "default":
        cache_dir = default_cache_dir()
    generated = generated or datetime.now(UTC)
    solutions = {q.id: reference_solution(q) for q in questions} if with_solutions else {}
    fragments = FragmentCache(cache_dir / FRAGMENTS_FILE if cache_dir else None)
    env = _environment(cache_dir / TEMPLATES_FOLDER if cache_dir else None)
    page = env.get_template(SHEET_TEMPLATE).render(
        title=title, subtitle=subtitle, generated=generated, questions=list(questions),
        toc=contents(questions), topics=topic_index(questions), with_solutions=with_solutions,
        solutions=solutions, with_progress=progress is not None, progress=progress or {}, fragments=fragments,
        stylesheet=_stylesheet(), code_css=fragments.fetch("css", "pygments", lambda _: markup.code_css()),
        option_order=option_orders(questions, generated.isoformat()),
    )
    fragments.save()
    return page


def write_sheet(path: Path, questions: Sequence[Question], **options) -> Path:
    """Render the sheet and write it to ``path`` (its folder is created; the file replaced atomically)."""
    page = render_sheet(questions, **options)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
