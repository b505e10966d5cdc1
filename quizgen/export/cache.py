"""What an export keeps between runs, in one folder of the user's data dir: rendered fragments
(Markdown with MathML, highlighted code) and Jinja2's compiled templates.

Rendering the whole bank is dominated by latex2mathml, markdown-it and Pygments, and compiling the
templates costs a few hundred milliseconds per process; the question files and templates rarely
change between two exports. Fragments are stored under a hash of their kind and source; a fragment
file made by other library versions or another version of ``quizgen/export/markup.py`` is discarded
as a whole, so a change to the rendering can never serve stale HTML. Jinja2 checks each compiled
template against its source. Both are only an optimisation: anything missing, unreadable or
unwritable is ignored, never an error. (Like the progress database, the folder is trusted: it
belongs to the user.)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

from markupsafe import Markup

from quizgen.paths import user_home

FRAGMENTS_FILE = "fragments.json"
TEMPLATES_FOLDER = "templates"
MAX_ENTRIES = 50_000  # beyond this, keep only what the latest export used
_LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "latex2mathml", "Pygments")


def default_cache_dir() -> Path:
    return user_home() / "cache" / "export"


def template_bytecode_cache(directory: Path):
    """Jinja2's FileSystemBytecodeCache in ``directory``, made quiet: a failure only means recompiling."""
    from jinja2 import FileSystemBytecodeCache

    class QuietBytecodeCache(FileSystemBytecodeCache):
        def load_bytecode(self, bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except (OSError, ValueError, EOFError, TypeError):
                bucket.reset()

        def dump_bytecode(self, bucket) -> None:
            with contextlib.suppress(OSError):
                directory.mkdir(parents=True, exist_ok=True)
                super().dump_bytecode(bucket)

    return QuietBytecodeCache(str(directory))


@cache
def renderer_fingerprint() -> str:
    """Changes whenever the output of ``quizgen.export.markup`` could change."""
    from importlib.metadata import PackageNotFoundError, version

    from quizgen import maths
    from quizgen.export import markup

    digest = hashlib.sha256(Path(markup.__file__).read_bytes() + Path(maths.__file__).read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={version(name)};".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=?;".encode())
    return digest.hexdigest()


def _key(kind: str, source: str) -> str:
    return hashlib.blake2b(f"{kind}\0{source}".encode(), digest_size=16).hexdigest()


class FragmentCache:
    """A dict of rendered fragments, loaded from and saved to one JSON file (or none: in memory only)."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._entries: dict[str, str] = {}
        self._used: set[str] = set()
        self._dirty = False
        if path is not None:
            self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("fingerprint") == renderer_fingerprint():
            entries = data.get("fragments")
            if isinstance(entries, dict):
                self._entries = entries

    def fetch(self, kind: str, source: str, render: Callable[[str], Markup]) -> Markup:
        """``render(source)``, from the cache when this exact source was rendered before."""
        key = _key(kind, source)
        self._used.add(key)
        hit = self._entries.get(key)
        if hit is not None:
            return Markup(hit)
        fragment = render(source)
        self._entries[key] = str(fragment)
        self._dirty = True
        return fragment

    def save(self) -> None:
        """Write the cache back if anything was added (atomically; failures are ignored)."""
        if self.path is None or not self._dirty:
            return
        entries = self._entries
        if len(entries) > MAX_ENTRIES:
            entries = {k: v for k, v in entries.items() if k in self._used}
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps({"fingerprint": renderer_fingerprint(), "fragments": entries}),
                               encoding="utf-8")
            os.replace(partial, self.path)
            self._dirty = False
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
