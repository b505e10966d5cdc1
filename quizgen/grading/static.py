"""Checks made before anything runs: the file is UTF-8 Python, names its question, defines the required
functions, and imports only what the task allows. Each failure names the file and the line."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from quizgen.bank.models import Bank, Question
from quizgen.errors import QuizgenError, UnusableSubmission

MAX_SOURCE_BYTES = 1 << 20
HEADER = re.compile(r"^#\s*quizgen:\s*question\s+(\d+)\s*$", re.M)
# Standard-library modules with no access to files, processes or the network.
SAFE_STDLIB = {"__future__", "math", "typing", "functools", "itertools", "collections", "dataclasses",
               "operator", "numbers", "enum", "abc", "cmath", "statistics", "heapq", "bisect", "warnings"}


@dataclass
class CheckedSource:
    source: str
    question: Question
    display_name: str


def read_source(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnusableSubmission(f"{path}: no such file") from None
    except OSError as exc:
        raise UnusableSubmission(f"{path}: cannot be read ({exc.strerror})") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise UnusableSubmission(f"{path}: {len(data):,} bytes is larger than a submission may be (1 MiB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnusableSubmission(f"{path}:{line}: the file is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def header_question(source: str) -> int | None:
    match = HEADER.search(source)
    return int(match.group(1)) if match else None


def _top_level_names(tree: ast.Module) -> set[str]:
    """Functions defined, and names assigned (``f = g``, ``a, b = ...``), at the top of the module."""
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            elements = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
            names |= {e.id for e in elements if isinstance(e, ast.Name)}
    return names


def _guess_question(defined: set[str], bank: Bank) -> Question | None:
    best = max(bank.questions, key=lambda q: len(defined & set(q.coding.functions)) if q.coding else 0)
    return best if best.coding and defined & set(best.coding.functions) else None


def check_source(source: str, name: str, bank: Bank, question_id: int | None) -> CheckedSource:
    """Resolve the question and check the file statically; raises UnusableSubmission with file:line."""
    if not source.strip():
        raise UnusableSubmission(f"{name}: the file is empty; start from `quiz stub N`")
    declared = header_question(source)
    if question_id is not None and declared is not None and declared != question_id:
        raise UnusableSubmission(f"{name}: its header says question {declared}, but --question {question_id} "
                                 "was given; pass the right number or fix the header")
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as exc:
        raise UnusableSubmission(f"{name}:{exc.lineno}: syntax error: {exc.msg}") from None
    defined = _top_level_names(tree)
    chosen = question_id if question_id is not None else declared
    if chosen is None:
        guess = _guess_question(defined, bank)
        hint = f" It looks like question {guess.id} ({guess.slug}): pass --question {guess.id}." if guess else ""
        raise UnusableSubmission(f"{name}: cannot tell which question this answers: no '# quizgen: question N' "
                                 f"header and no --question.{hint}")
    try:
        question = bank.get(chosen)
    except QuizgenError as exc:
        raise UnusableSubmission(f"{name}: {exc}") from None
    if question.coding is None:
        raise UnusableSubmission(f"question {chosen} has no coding task")
    allowed = SAFE_STDLIB | set(question.coding.allowed_imports)
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""] if node.level == 0 else ["(relative import)"]
        for module in modules:
            if module.split(".")[0] not in allowed:
                raise UnusableSubmission(f"{name}:{node.lineno}: imports '{module}', which question {question.id} does "
                                         f"not allow (allowed: {', '.join(sorted(allowed))})")
    missing = [f for f in question.coding.functions if f not in defined]
    if missing:
        guess = _guess_question(defined, bank)
        hint = (f" It looks like a submission for question {guess.id} ({guess.slug})."
                if guess and guess.id != question.id else "")
        raise UnusableSubmission(f"{name}: does not define {', '.join(f'{m}()' for m in missing)} required by "
                                 f"question {question.id}.{hint}")
    return CheckedSource(source, question, name)
