"""The trust boundary is visible in the layout: the untrusted side (quizgen/sandbox/) imports only the
wire-protocol module of quizgen, the wire module imports no other part of quizgen, and the trusted
side never imports the sandbox (it starts the launcher as a separate interpreter)."""

from __future__ import annotations

import ast
from pathlib import Path

import quizgen

PACKAGE = Path(quizgen.__file__).parent


def _quizgen_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "quizgen"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "quizgen":
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if node.module == "quizgen"}
    return found


def test_the_sandbox_imports_only_the_wire_protocol_of_quizgen():
    files = sorted((PACKAGE / "sandbox").rglob("*.py"))
    assert files
    for path in files:
        outside = {m for m in _quizgen_imports(path) if not (m == "quizgen.wire" or m.startswith("quizgen.sandbox"))}
        assert not outside, f"{path.relative_to(PACKAGE)} imports {sorted(outside)}"


def test_the_wire_protocol_imports_nothing_else_of_quizgen():
    assert _quizgen_imports(PACKAGE / "wire.py") == set()


def test_the_trusted_side_never_imports_the_sandbox():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "sandbox" in path.relative_to(PACKAGE).parts:
            continue
        imported = {m for m in _quizgen_imports(path) if m.startswith("quizgen.sandbox")}
        assert not imported, f"{path.relative_to(PACKAGE)} imports {sorted(imported)}"


def test_limits_live_in_one_place():
    """WorkerLimits is defined once, in the wire module both sides share."""
    defining = [p for p in PACKAGE.rglob("*.py") if "class WorkerLimits" in p.read_text(encoding="utf-8")]
    assert [p.relative_to(PACKAGE).as_posix() for p in defining] == ["wire.py"]


def test_no_shipped_file_points_at_the_developers_shared_folder():
    """Users get questions/, solutions/ (`quiz solution` shows the reference), templates/ and the
    package, never ../shared: a docstring that cites it sends them to a file they do not have."""
    root = PACKAGE.parent
    shipped = [p for folder in ("quizgen", "questions", "solutions", "templates") for p in (root / folder).rglob("*")
               if p.is_file() and p.suffix in (".py", ".yaml", ".md", ".html", ".j2", ".json", ".css")]
    citing = [str(p.relative_to(root)) for p in shipped if "../shared" in p.read_text(encoding="utf-8")]
    assert shipped and citing == []
