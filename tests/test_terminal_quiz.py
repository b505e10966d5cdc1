"""`quiz start --topic moe` in a real terminal (a pty driven by pexpect), answered as a user would:
reading the shuffled options off the screen, typing numbers to three significant figures, then q."""

from __future__ import annotations

import json
import re
import sys

import pytest

from quizgen.bank.models import BugItem, ChoiceItem, DesignItem, FlashcardItem, MultiItem, NumericItem
from quizgen.maths import latex_to_unicode
from quizgen.prose import inline
from quizgen.store import open_store

pexpect = pytest.importorskip("pexpect", reason="pexpect is in the dev extra")

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
ITEMS_TO_ANSWER = 5


def screen_text(raw: str) -> str:
    return ANSI.sub("", raw).replace("\r\n", "\n").replace("\r", "")


def squeezed(text: str) -> str:
    """Without any whitespace: a comparison that the terminal's line wrapping cannot upset."""
    return re.sub(r"\s+", "", text)


def options_on_screen(text: str) -> dict[int, str]:
    """``  N. text`` lines (and their wrapped continuations) as {N: text}."""
    options: dict[int, str] = {}
    current = None
    for line in text.splitlines():
        match = re.match(r"\s+(\d+)\. (.*)", line)
        if match:
            current = int(match.group(1))
            options[current] = match.group(2).strip()
        elif current is not None and line.startswith("     ") and line.strip():
            options[current] += " " + line.strip()
        else:
            current = None
    return options


def formulas(markdown: str) -> list[str]:
    return re.findall(r"\$\$?([^$]+)\$\$?", markdown)


def answer_for(item, text: str) -> list[str]:
    """What a user who knows the answer types, given what the screen shows."""
    if isinstance(item, (ChoiceItem, MultiItem)):
        shown = options_on_screen(text)
        assert len(shown) == len(item.options), text
        right = [squeezed(inline(o.text).plain) for o in item.options if o.correct]
        numbers = [n for n, option in shown.items() if squeezed(option) in right]
        assert len(numbers) == len(right), (shown, right)
        return [",".join(map(str, numbers))]
    if isinstance(item, NumericItem):
        assert f"Expected: {item.expected_form}." in text
        return [str(int(item.answer)) if item.exact else f"{item.answer:.3g}"]
    if isinstance(item, FlashcardItem):
        return ["", "3"]
    if isinstance(item, DesignItem):
        return ["an answer", "all"]
    if isinstance(item, BugItem):
        return [str(item.bug_line)]
    raise AssertionError(f"unknown kind {item.kind}")


PROMPTS = {"choice": r"Your answer \(1-\d+\): ", "multi": r"separated by commas\): ", "numeric": r"Your answer: ",
           "flashcard": r"press Enter to see it: ", "design": r"then Enter: ", "spot-the-bug": r"\(1-\d+\)\? "}
FOLLOW_UPS = {"flashcard": r"4 Easy: ", "design": r"Enter for none\): "}


def test_quiz_in_a_real_terminal(bank, tmp_path, quizgen_home):
    question = bank.get(52)
    child = pexpect.spawn(sys.executable, ["-c", "from quizgen.cli import main; main()", "start", "--topic", "moe",
                                           "--no-stub"],
                          cwd=str(tmp_path), env={"QUIZGEN_HOME": str(quizgen_home), "TERM": "xterm-256color",
                                                  "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                          dimensions=(50, 110), encoding="utf-8", timeout=60)
    seen = ""
    try:
        child.expect(r"items on 'moe'")
        for item in question.concepts[:ITEMS_TO_ANSWER]:
            child.expect(re.escape(f"Q52 · {item.id}"))
            child.expect(PROMPTS[item.kind])
            text = screen_text(child.before)
            seen += text
            assert squeezed(inline(item.prompt).plain)[:40] in squeezed(text)
            for formula in formulas(item.prompt):
                assert squeezed(latex_to_unicode(formula)) in squeezed(text), formula
            typed = answer_for(item, text)
            child.sendline(typed[0])
            if item.kind in FOLLOW_UPS:
                child.expect(FOLLOW_UPS[item.kind])
                seen += screen_text(child.before)
                child.sendline(typed[1])
            verdict = "Rated Good." if item.kind == "flashcard" else \
                "rated Easy." if item.kind == "design" else "Right."
            child.expect(re.escape(verdict))
        following = question.concepts[ITEMS_TO_ANSWER]
        child.expect(re.escape(f"Q52 · {following.id}"))
        child.expect(PROMPTS[following.kind])
        child.sendline("q")
        child.expect(r"Stopped\. Your answers so far are saved")
        seen += screen_text(child.before)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    for raw in ("\\frac", "\\mathcal", "\\sum", "\\text", "$"):
        assert raw not in seen, f"{raw!r} reached the terminal"
    answers = open_store().concept_answers(52)
    assert [a["item_id"] for a in answers] == [i.id for i in question.concepts[:ITEMS_TO_ANSWER]]
    assert all(a["correct"] for a in answers), [(a["item_id"], a["response"]) for a in answers]
    for answer, item in zip(answers, question.concepts):
        if item.kind in ("choice", "multi"):
            order = json.loads(answer["shown_order"])
            assert sorted(order) == list(range(len(item.options)))
            assert json.loads(answer["chosen"]) == [item.options[i].text for i in order if item.options[i].correct]
