"""A summary of the bank for `quiz list`, kept as JSON beside the user's data and rebuilt whenever a
question file changes, so that listing needs neither YAML parsing nor the pydantic models.

The key is every question file's name, size and modification time; on any difference (or an
unreadable cache) the bank is loaded and validated as usual, which also reports malformed files.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from quizgen.paths import questions_dir, user_home

INDEX_VERSION = 1


def _fingerprint(folder: Path) -> list:
    return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(folder.glob("*.yaml"))]


def _index_path() -> Path:
    return user_home() / "cache" / "bank-index.json"


def _summaries(folder: Path) -> list[dict]:
    from quizgen.bank.loader import load_bank

    return [{"id": q.id, "slug": q.slug, "title": q.title, "topics": q.topics, "difficulty": q.difficulty,
             "concepts": len(q.concepts), "functions": q.coding.functions if q.coding else []}
            for q in load_bank(folder).questions]


def question_summaries(folder: Path | None = None) -> list[dict]:
    """One dict per question (id, slug, title, topics, difficulty, concepts, functions), in id order."""
    folder = folder or questions_dir()
    key = {"version": INDEX_VERSION, "folder": str(folder), "files": _fingerprint(folder)}
    path = _index_path()
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached["key"] == key:
            return cached["questions"]
    questions = _summaries(folder)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "questions": questions}), encoding="utf-8")
        os.replace(tmp, path)
    return questions
