"""The bank's content meets the bar of issue 5, and every numeric answer is recomputed from its formula."""

import re

import pytest

from quizgen.bank.arithmetic import evaluate
from quizgen.bank.models import BugItem, ChoiceItem, DesignItem, FlashcardItem, MultiItem, NumericItem
from quizgen.grading.task import Task

QUESTION_IDS = list(range(51, 66))


def _numeric_items(bank):
    return [(q, item) for q in bank.questions for item in q.concepts if isinstance(item, NumericItem)]


@pytest.mark.parametrize("question_id", QUESTION_IDS)
def test_question_has_complete_content(bank, question_id):
    q = bank.get(question_id)
    kinds = [type(i) for i in q.concepts]
    assert len(q.answer.split()) >= 200, "the corrected answer is missing or too short"
    assert len(q.pitfalls) >= 3
    assert len(q.references) >= 2
    assert len(q.concepts) >= 6
    assert kinds.count(ChoiceItem) >= 2 and kinds.count(MultiItem) >= 1
    assert kinds.count(NumericItem) >= 2 and kinds.count(FlashcardItem) >= 1
    assert len(q.coding.hints) == 3
    assert kinds.count(DesignItem) >= 2, "every question needs two design (open interview) items"
    assert kinds.count(BugItem) >= 1, "every question needs a spot-the-bug item"


def test_every_numeric_item_says_how_it_is_derived(bank):
    missing = [f"{q.id}/{i.id}" for q, i in _numeric_items(bank) if i.derivation is None]
    assert not missing, f"numeric items without a derivation: {missing}"


def test_numeric_answers_follow_from_their_formulas(bank):
    wrong = []
    for q, item in _numeric_items(bank):
        d = item.derivation
        if d.expression is not None:
            value = evaluate(d.expression)
        else:
            value = getattr(Task.of(q).load_reference(), d.function)(**d.args)
        if not item.accepts(float(value)):
            wrong.append(f"{q.id}/{item.id}: answer {item.answer}, formula gives {value}")
    assert not wrong, "\n".join(wrong)


def test_choice_items_have_one_right_option_and_multi_items_at_least_one(bank):
    for q in bank.questions:
        for item in q.concepts:
            if isinstance(item, ChoiceItem):
                assert sum(o.correct for o in item.options) == 1, f"{q.id}/{item.id}"
            if isinstance(item, MultiItem):
                assert any(o.correct for o in item.options), f"{q.id}/{item.id}"


def _normalized(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def test_no_two_items_repeat(bank):
    seen = {}
    for q in bank.questions:
        for item in q.concepts:
            key = _normalized(item.prompt)
            assert key not in seen, f"{q.id}/{item.id} repeats {seen[key]}"
            seen[key] = f"{q.id}/{item.id}"


def test_undisclosed_model_sizes_are_not_quoted_as_facts(bank):
    answer = bank.get(51).answer.lower()
    assert "undisclosed" in answer or "not disclosed" in answer or "not public" in answer
    for rumour in re.finditer(r"1\.[78]\s*t", answer):
        window = answer[max(0, rumour.start() - 200): rumour.end() + 200]
        assert "rumo" in window or "unconfirmed" in window or "leak" in window, "a GPT-4 size is quoted as fact"


def test_llama_one_size_is_33b_not_30b(bank):
    answer = bank.get(51).answer
    assert "33B" in answer


def test_arithmetic_evaluator_refuses_anything_but_arithmetic():
    assert evaluate("2 * (3 + 4) ** 2 / sqrt(4)") == 49.0
    for bad in ("__import__('os')", "open('x')", "(1).__class__", "[1, 2]"):
        with pytest.raises(ValueError):
            evaluate(bad)


def _three_significant_figures(x: float) -> float:
    return float(f"{x:.3g}")


def test_numeric_items_accept_the_answer_rounded_to_three_significant_figures(bank):
    refused = [f"{q.id}/{i.id}: {i.answer} -> {_three_significant_figures(i.answer)}"
               for q, i in _numeric_items(bank)
               if not i.exact and not i.accepts(_three_significant_figures(i.answer))]
    assert not refused, refused


_QUOTED = re.compile(r"(?:≈|~|about|approximately|roughly|=)\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)")


def test_numeric_items_accept_the_value_their_explanation_quotes(bank):
    """An explanation that says "≈ 2.80" (or "about 3.36") must not then refuse 2.80: the last value
    the explanation gives as the result is accepted."""
    refused = []
    for q, item in _numeric_items(bank):
        if item.exact:
            continue  # a count: nearby numbers in its explanation are other quantities
        quoted = [float(m.replace(",", "")) for m in _QUOTED.findall(item.explanation)]
        close = [v for v in quoted if item.answer and abs(v - item.answer) <= 0.02 * abs(item.answer)]
        refused += [f"{q.id}/{item.id}: explanation quotes {v}, answer {item.answer}"
                    for v in close if not item.accepts(v)]
    assert not refused, refused


def test_exact_numeric_items_are_whole_numbers_the_prompt_asks_to_count(bank):
    for q, item in _numeric_items(bank):
        if item.exact:
            assert item.answer == int(item.answer), f"{q.id}/{item.id}"
            assert "whole number" in item.expected_form


def test_design_items_have_a_model_answer_and_a_rubric_of_four_to_six_points(bank):
    for q in bank.questions:
        for item in q.concepts:
            if isinstance(item, DesignItem):
                assert 4 <= len(item.rubric) <= 6, f"{q.id}/{item.id}"
                assert len(item.answer.split()) >= 60, f"{q.id}/{item.id}: the model answer is too short"


def test_spot_the_bug_items_name_a_line_of_a_short_snippet(bank):
    for q in bank.questions:
        for item in q.concepts:
            if isinstance(item, BugItem):
                assert 4 <= len(item.lines) <= 30, f"{q.id}/{item.id}: {len(item.lines)} lines"
                assert item.lines[item.bug_line - 1].strip(), f"{q.id}/{item.id}: the bug line is blank"


def test_every_formula_of_the_bank_renders_in_the_sheet_and_no_underscore_is_escaped(bank):
    from quizgen.export.markup import markdown_block

    for q in bank.questions:
        texts = [q.answer] + [p.correction for p in q.pitfalls] + [p.claim for p in q.pitfalls]
        texts += [i.prompt for i in q.concepts] + [i.explanation for i in q.concepts]
        texts += [i.answer for i in q.concepts if isinstance(i, (DesignItem, FlashcardItem))]
        for text in texts:
            assert "math-error" not in str(markdown_block(text)), f"{q.id}: {text[:80]}"
            assert not re.search(r"(?<!\$)\\_", text), f"{q.id}: an escaped underscore in {text[:80]!r}"
