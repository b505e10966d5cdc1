"""Helpers the per-question content tests share: find an item, run a spot-the-bug snippet."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def find_item(question, item_id: str):
    return next(i for i in question.concepts if i.id == item_id)


def run_snippet(code: str, replace: dict[int, str] | None = None) -> dict:
    """Execute a spot-the-bug snippet (the bank's own code), with some lines replaced if asked (each
    keeps its indentation); returns the namespace it defined."""
    lines = code.rstrip("\n").splitlines()
    for number, new in (replace or {}).items():
        old = lines[number - 1]
        lines[number - 1] = old[: len(old) - len(old.lstrip())] + new
    namespace = {"torch": torch, "F": F, "math": math, "print": lambda *args, **kwargs: None}
    exec("\n".join(lines), namespace)  # the bank's snippet, not user input
    return namespace
