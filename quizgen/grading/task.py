"""One place that knows where a coding task's files live (as rustlings' ``ExerciseInfo`` does).

A task is a question's coding part plus its folder ``solutions/NN_slug/``:

    reference.py      the reference kernels (trusted side only)
    test_hidden.py    the hidden suite (pytest, trusted side only)
    wrong/*.py        known-wrong implementations: each a complete submission whose module
                      docstring's first line says what is wrong ("Known-wrong: ...")
    wrong/rewrites/   the same mistakes written differently, ``<known-wrong stem>__<n>.py``: the
                      report must still name the mistake (``quiz validate`` counts how often it does)

The stub is the question's own ``coding.stub``. Nothing else in quizgen builds these paths.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

from quizgen.bank.models import Question
from quizgen.errors import UnusableSubmission
from quizgen.paths import solutions_dir

REFERENCE_FILE = "reference.py"
SUITE_FILE = "test_hidden.py"
WRONG_FOLDER = "wrong"
REWRITES_FOLDER = "rewrites"


@dataclass(frozen=True)
class KnownWrong:
    """A known-wrong implementation and the mistake it makes, in one line."""

    path: Path
    mistake: str

    @property
    def name(self) -> str:
        return self.path.name

    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _mistake(path: Path) -> str:
    """The docstring's first line without its "Known-wrong:" prefix: what the file gets wrong."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except SyntaxError:
        doc = ""
    line = doc.strip().splitlines()[0] if doc.strip() else path.stem.replace("_", " ")
    for prefix in ("Known-wrong:", "Known wrong:"):
        line = line.removeprefix(prefix)
    return line.strip().rstrip(".")


@dataclass(frozen=True)
class Task:
    question: Question

    @classmethod
    def of(cls, question: Question) -> Task:
        if question.coding is None:
            raise UnusableSubmission(f"question {question.id} has no coding task")
        return cls(question)

    @property
    def folder(self) -> Path:
        return solutions_dir() / self.question.folder_name

    @property
    def reference_path(self) -> Path:
        return self.folder / REFERENCE_FILE

    @property
    def suite_path(self) -> Path:
        path = self.folder / SUITE_FILE
        if not path.is_file():
            raise UnusableSubmission(f"question {self.question.id} has no hidden suite ({path} is missing)")
        return path

    @property
    def stub(self) -> str:
        return self.question.coding.stub

    @property
    def stub_file(self) -> str:
        return self.question.coding.stub_file

    @cached_property
    def known_wrong(self) -> tuple[KnownWrong, ...]:
        folder = self.folder / WRONG_FOLDER
        files = sorted(folder.glob("*.py")) if folder.is_dir() else []
        return tuple(KnownWrong(p, _mistake(p)) for p in files)

    @cached_property
    def rewrites(self) -> tuple[tuple[KnownWrong, Path], ...]:
        """(the known-wrong file it rewrites, the rewrite's path) for each file in wrong/rewrites/."""
        folder = self.folder / WRONG_FOLDER / REWRITES_FOLDER
        by_stem = {w.path.stem: w for w in self.known_wrong}
        found = []
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            original = by_stem.get(path.stem.split("__")[0])
            if original is not None:
                found.append((original, path))
        return tuple(found)

    def load_reference(self) -> ModuleType:
        """The reference kernels as a module (trusted side only)."""
        return load_module(self.reference_path, f"quizgen_reference_{self.question.id}")


def load_module(path: Path, name: str) -> ModuleType:
    """Import a trusted file of ours (a reference, a known-wrong implementation) under ``name``."""
    if not path.is_file():
        raise UnusableSubmission(f"{path} is missing")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
