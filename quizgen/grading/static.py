"""Checks made before anything runs: the file is UTF-8 Python, names its question, defines the required
functions, and keeps to the policy below. Each failure names the file and the line.

The policy (after RestrictedPython's rules) refuses what a kernel never needs and an attack
always does: imports outside torch, math and the standard library's pure-computation modules;
``__import__``, ``eval``, ``exec`` and friends; attribute names that start with an underscore;
``getattr``/``setattr``/``delattr`` with a computed name; the attributes that lead to the
interpreter's machinery (``sys``, ``os``, ``torch.library``, ``torch.ops``...); and assignments to
attributes of imported modules (patching torch). It is a deterrent with clear messages, not a
wall: the walls are the kernel's (``quizgen.sandbox.walls``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from quizgen.bank.models import Bank, Question
from quizgen.errors import QuizgenError, UnusableSubmission

MAX_SOURCE_BYTES = 1 << 20
HEADER = re.compile(r"^#\s*quizgen:\s*question\s+(\d+)\s*$", re.MULTILINE)
# Standard-library modules with no access to files, processes, the network or the interpreter.
SAFE_STDLIB = frozenset({
    "__future__", "math", "cmath", "typing", "typing_extensions", "functools", "itertools", "collections", "dataclasses",
    "operator", "numbers", "enum", "abc", "statistics", "heapq", "bisect", "warnings", "struct", "fractions",
    "decimal", "copy", "re", "string", "array", "random", "types", "contextlib", "textwrap", "unicodedata",
    "collections.abc", "keyword", "pprint", "reprlib", "graphlib", "datetime", "time", "zlib", "binascii", "base64",
    "hashlib", "colorsys",
})
REFUSED_MODULES = frozenset({"torch.library", "torch.ops", "torch.multiprocessing", "torch.distributed", "torch.hub",
                             "torch.package", "torch.serialization", "torch.utils.cpp_extension", "torch.overrides",
                             "torch.fx", "torch.export", "torch.compiler", "torch.load", "torch.save"})
REFUSED_CALLS = frozenset({"__import__", "eval", "exec", "compile", "globals", "locals", "vars", "breakpoint",
                           "open", "input", "memoryview", "help", "exit", "quit"})
COMPUTED_ATTRIBUTE_CALLS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
REFUSED_ATTRIBUTES = frozenset({"sys", "os", "builtins", "library", "ops", "importlib", "ctypes", "gc", "inspect",
                                "subprocess", "threading", "multiprocessing", "f_globals", "f_locals", "f_back",
                                "gi_frame", "cr_frame", "tb_frame", "attrgetter", "methodcaller",
                                "getattr", "setattr", "delattr"})
ALLOWED_DUNDERS = frozenset({"__init__", "__call__", "__name__", "__doc__", "__len__", "__getitem__", "__iter__",
                             "__enter__", "__exit__", "__repr__", "__str__"})


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
    except IsADirectoryError:
        raise UnusableSubmission(f"{path}: is a folder, not a file") from None
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


def _module_allowed(module: str, allowed: set[str]) -> bool:
    """``module`` (or a name imported from a module, ``torch.nn``) is allowed when it or its top-level
    package is, unless it is refused by name or reaches for an underscore (private) or refused part
    (``from torch import sys``)."""
    if any(module == r or module.startswith(r + ".") for r in REFUSED_MODULES):
        return False
    parts = module.split(".")
    if any(part.startswith("_") for part in parts if part != "__future__") or set(parts[1:]) & REFUSED_ATTRIBUTES:
        return False
    return module in allowed or module.split(".")[0] in allowed


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def policy_violations(tree: ast.Module, allowed_modules: set[str]) -> list[tuple[int, str]]:
    """(line, what) for every construct the policy refuses, in source order."""
    found: list[tuple[int, str]] = []
    module_names: set[str] = set()
    nodes = list(ast.walk(tree))  # walked three times: once is most of the cost
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _module_allowed(alias.name, allowed_modules):
                    found.append((node.lineno, f"imports '{alias.name}'"))
                module_names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                found.append((node.lineno, "uses a relative import"))
                continue
            if not _module_allowed(module, allowed_modules):
                found.append((node.lineno, f"imports '{module}'"))
            for alias in node.names:
                if alias.name != "*" and not _module_allowed(f"{module}.{alias.name}", allowed_modules):
                    found.append((node.lineno, f"imports '{alias.name}' from '{module}'"))
                if alias.name == "*":
                    found.append((node.lineno, f"imports * from '{module}'"))
                module_names.add(alias.asname or alias.name)
    plain_attribute_calls = set()  # getattr(x, "name") with a harmless literal name: the only way getattr may appear
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in COMPUTED_ATTRIBUTE_CALLS:
            name = node.args[1] if len(node.args) > 1 else None
            if (isinstance(name, ast.Constant) and isinstance(name.value, str) and not name.value.startswith("_")
                    and name.value not in REFUSED_ATTRIBUTES):
                plain_attribute_calls.add(id(node.func))
    for node in nodes:
        if isinstance(node, ast.Name) and node.id in REFUSED_CALLS:
            found.append((node.lineno, f"uses {node.id}()"))
        elif isinstance(node, ast.Name) and node.id in COMPUTED_ATTRIBUTE_CALLS and id(node) not in plain_attribute_calls:
            found.append((node.lineno, f"uses {node.id}() with a computed, underscore or refused name"))
        elif isinstance(node, ast.Name) and node.id.startswith("__") and node.id not in ("__name__", "__doc__"):
            found.append((node.lineno, f"uses the name {node.id}"))
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_") and node.attr not in ALLOWED_DUNDERS:
                found.append((node.lineno, f"reads the underscore attribute .{node.attr}"))
            elif node.attr in REFUSED_ATTRIBUTES:
                found.append((node.lineno, f"reads the attribute .{node.attr}"))
        elif isinstance(node, ast.MatchClass):  # `case C(attr=...)` reads attributes by name
            for attr in node.kwd_attrs:
                if attr.startswith("_") or attr in REFUSED_ATTRIBUTES:
                    found.append((node.lineno, f"reads the attribute .{attr} in a pattern"))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and _root_name(target) in module_names:
                    found.append((node.lineno, f"changes {ast.unparse(target)}, an attribute of an imported module"))
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and any(n.startswith("_") for n in node.names):
            found.append((node.lineno, "declares an underscore global"))
    return sorted(set(found))


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
        if exc.lineno is None:  # a NUL byte
            raise UnusableSubmission(f"{name}: the file cannot be read as Python ({exc.msg})") from None
        raise UnusableSubmission(f"{name}:{exc.lineno}: syntax error: {exc.msg}") from None
    except (MemoryError, RecursionError):
        raise UnusableSubmission(f"{name}: the code is nested too deeply to read (an expression thousands of "
                                 "levels deep?)") from None
    except ValueError as exc:  # a NUL byte
        raise UnusableSubmission(f"{name}: the file cannot be read as Python ({exc})") from None
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
    allowed = set(SAFE_STDLIB) | set(question.coding.allowed_imports)
    violations = policy_violations(tree, allowed)
    if violations:
        line, what = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise UnusableSubmission(f"{name}:{line}: {what}, which the grader does not allow{more}. Submissions may "
                                 "import torch, math and the standard library's computation modules "
                                 f"({', '.join(sorted(m for m in SAFE_STDLIB if m in ('collections', 'functools', 'itertools', 'random', 're', 'struct')))}, ...)")
    missing = [f for f in question.coding.functions if f not in defined]
    if missing:
        guess = _guess_question(defined, bank)
        hint = (f" It looks like a submission for question {guess.id} ({guess.slug})."
                if guess and guess.id != question.id else "")
        raise UnusableSubmission(f"{name}: does not define {', '.join(f'{m}()' for m in missing)} required by "
                                 f"question {question.id}.{hint}")
    return CheckedSource(source, question, name)
