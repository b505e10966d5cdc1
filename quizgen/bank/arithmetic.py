"""A safe evaluator for the arithmetic in numeric items' derivations: numbers, + - * / // % **,
parentheses and the functions and constants of ``math``. Nothing else parses."""

from __future__ import annotations

import ast
import math
import operator

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_NAMES = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")} | {"abs": abs, "min": min,
                                                                                          "max": max, "round": round}


def evaluate(expression: str) -> float:
    """The value of ``expression``; ValueError naming the part that is not plain arithmetic."""

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        if isinstance(node, ast.Name) and node.id in _NAMES:
            return _NAMES[node.id]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _NAMES and not node.keywords:
            return _NAMES[node.func.id](*(walk(a) for a in node.args))
        raise ValueError(f"not plain arithmetic: {ast.unparse(node)!r}")

    return float(walk(ast.parse(expression, mode="eval")))
