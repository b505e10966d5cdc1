"""Question 55 (QLoRA): the double-quantization quote, the sourced speed statement, and the worked
memory budgets of issue 12."""

import re

from bank_items import find_item

from quizgen.bank.arithmetic import evaluate
from quizgen.bank.models import BugItem, DesignItem, NumericItem

_QUOTED = re.compile(r"(?:≈|~|about|approximately|roughly|=)\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)")


def test_double_quantization_explanation_quotes_only_accepted_values(bank):
    item = find_item(bank.get(55), "dq-constant-bits")
    quoted = [float(v.replace(",", "")) for v in _QUOTED.findall(item.explanation)]
    near = [v for v in quoted if abs(v - item.answer) <= 0.02 * item.answer]
    assert near and all(item.accepts(v) for v in near), quoted
    assert "= 0.125" not in item.explanation and item.accepts(0.127)


def test_speed_statement_is_sourced_not_asserted(bank):
    q = bank.get(55)
    assert "saves memory, not time" not in q.answer
    assert "dequantizes the 4-bit storage type to the BF16" in q.answer
    assert "forward and backward pass" in q.answer and "measure it" in q.answer
    pitfall = next(p for p in q.pitfalls if "faster" in p.claim)
    assert "dequantizes" in pitfall.correction and "Measure" in pitfall.correction
    assert any("2305.14314" in str(r.url) for r in q.references)


def test_2025_26_part_works_the_7b_and_65b_budgets(bank):
    q = bank.get(55)
    answer = " ".join(q.answer.split())
    assert "**2025-26" in answer
    for term in ("Llama-2-7B", "LLaMA-65B", "3.48 GB", "33.5 GB", "159.9M", "799.5M", "1.92 GB", "9.59 GB",
                 "5.40 GB", "43.1 GB", "all seven linear layers", "gradient checkpointing", "780 GB"):
        assert term in answer, term
    assert "all linear layers necessary" in answer
    urls = " ".join(str(r.url) for r in q.references)
    assert "2302.13971" in urls and "1604.06174" in urls


def test_budget_table_matches_its_arithmetic():
    bits = 4 + 8 / 64 + 32 / (64 * 256)
    assert round(6_738_415_616 * bits / 8 / 1e9, 2) == 3.48
    assert round(65e9 * bits / 8 / 1e9, 1) == 33.5
    assert 32 * 64 * (4 * (4096 + 4096) + 3 * (4096 + 11008)) == 159_907_840
    assert 80 * 64 * (4 * (8192 + 8192) + 3 * (8192 + 22016)) == 799_539_200
    assert round(159_907_840 * 12 / 1e9, 2) == 1.92 and round(799_539_200 * 12 / 1e9, 2) == 9.59
    assert round((6_738_415_616 * bits / 8 + 159_907_840 * 12) / 1e9, 2) == 5.40
    assert round((65e9 * bits / 8 + 799_539_200 * 12) / 1e9, 1) == 43.1


def test_systems_arithmetic_items(bank):
    q = bank.get(55)
    gb = [i for i in q.concepts if isinstance(i, NumericItem) and i.unit == "GB"]
    assert {i.id for i in gb} >= {"qlora-65b-budget", "full-ft-65b-memory", "checkpointed-activations-65b"}
    for item in gb:
        assert item.accepts(evaluate(item.derivation.expression)), item.id
    assert find_item(q, "lora-params-65b").exact
    # the near-identical storage variants were merged into the budget
    ids = {i.id for i in q.concepts}
    assert not ids & {"nf4-bits-without-dq", "dq-saving-65b", "qlora-65b-storage"}


def test_design_and_spot_the_bug_items(bank):
    q = bank.get(55)
    designs = [i for i in q.concepts if isinstance(i, DesignItem)]
    assert len(designs) >= 2 and all(4 <= len(d.rubric) <= 6 for d in designs)
    assert "33.5 GB" in find_item(q, "design-qlora-65b-48gb").answer
    bug = find_item(q, "bug-nf4-absmax")
    assert isinstance(bug, BugItem)
    line = bug.lines[bug.bug_line - 1]
    assert "absmax" in line and ".abs()" not in line
    assert "blocks.abs().max" in bug.explanation
