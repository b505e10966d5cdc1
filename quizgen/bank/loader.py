"""YAML question files -> validated models, with errors that name the file, the line and the field."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from quizgen.bank.models import Bank, Question
from quizgen.errors import BankError
from quizgen.paths import questions_dir

_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """The 1-based line of the YAML node at pydantic's error location, or of its nearest parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
        else:
            child = None  # pydantic adds union tags such as 'choice' to the path: skip them
        if child is not None:
            node = child
            line = node.start_mark.line + 1
    return line


def _field_path(loc: tuple) -> str:
    parts: list[str] = []
    for key in loc:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif key in {"choice", "multi", "numeric", "flashcard", "design", "spot-the-bug"} and parts and parts[-1].endswith("]"):
            continue  # the discriminator tag, not a field the user wrote
        else:
            parts.append(("." if parts else "") + str(key))
    return "".join(parts) or "(top level)"


def load_question(path: Path) -> Question:
    """Load and validate one question file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BankError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = yaml.load(text, Loader=_FastLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}" if mark else ""
        raise BankError(f"{path}{where}: invalid YAML: {exc.problem or exc.context}") from None
    if not isinstance(data, dict):
        raise BankError(f"{path}:1: a question file must be a mapping of fields, got {type(data).__name__}")
    try:
        question = Question.model_validate(data)
    except ValidationError as exc:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # only now: the node tree carries line numbers
        lines = []
        for err in exc.errors():
            line = _line_of(root, err["loc"])
            where = f"{path}:{line}" if line else str(path)
            lines.append(f"{where}: field '{_field_path(err['loc'])}': {err['msg']}")
        raise BankError("\n".join(lines)) from None
    expected_prefix = f"{question.id}-"
    if not path.stem.startswith(expected_prefix):
        raise BankError(f"{path}:1: field 'id' is {question.id}, but the file name does not start with '{expected_prefix}'")
    return question


def load_bank(folder: Path | None = None) -> Bank:
    """Every ``*.yaml`` under ``folder`` (the bundled questions/ by default), sorted by id."""
    return _load_bank(folder or questions_dir())


@cache
def _load_bank(folder: Path) -> Bank:
    questions = [load_question(p) for p in sorted(folder.glob("*.yaml"))]
    seen: dict[int, str] = {}
    for q in questions:
        if q.id in seen:
            raise BankError(f"question id {q.id} is used by both {seen[q.id]} and another file in {folder}")
        seen[q.id] = q.slug
    return Bank(questions=sorted(questions, key=lambda q: q.id))


def load_bank_for(question_id: int | None, folder: Path | None = None) -> Bank:
    """A bank of just question ``question_id`` when one file holds it (a submission that names its
    question needs no other; ten times faster than the whole bank), else the whole bank."""
    folder = folder or questions_dir()
    if question_id is not None:
        files = sorted(folder.glob(f"{question_id}-*.yaml"))
        if len(files) == 1:
            question = load_question(files[0])
            if question.id == question_id:
                return Bank(questions=[question])
    return load_bank(folder)
