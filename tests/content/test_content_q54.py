"""Question 54 (LoRA vs full fine-tuning): the memory-sources item and the 2025-26 material of issue 12."""

from bank_items import find_item

from quizgen.bank.arithmetic import evaluate
from quizgen.bank.models import BugItem, DesignItem


def test_checkpoint_storage_is_not_keyed_as_a_training_memory_saving(bank):
    item = find_item(bank.get(54), "lora-memory-sources")
    for option in item.options:
        if "checkpoint" in option.text.lower():
            assert not option.correct, option.text
    right = [o.text for o in item.options if o.correct]
    assert any("gradients" in t for t in right) and any("optimizer" in t for t in right)
    assert any("master copy" in t for t in right)
    assert "not training memory" in item.explanation
    assert "GPU-memory" in item.prompt or "GPU memory" in item.prompt
    assert "a storage benefit, not a training-memory one" in bank.get(54).answer


def test_2025_26_part_covers_dora_loraplus_pissa_loftq_and_learns_less(bank):
    q = bank.get(54)
    answer = " ".join(q.answer.split())
    assert "**2025-26" in answer
    for term in ("LoRA Learns Less and Forgets Less", "DoRA", "magnitude", "LoRA+", "learning rate",
                 "PiSSA", "singular", "LoftQ", "quantization error", "10-100×"):
        assert term in answer, term
    urls = " ".join(str(r.url) for r in q.references)
    for arxiv_id in ("2405.09673", "2402.09353", "2402.12354", "2404.02948", "2310.08659"):
        assert arxiv_id in urls, arxiv_id
    ids = {i.id for i in q.concepts}
    assert {"peft-variant-for-problem", "dora-vs-others", "lora-learns-less-findings"} <= ids


def test_memory_ratio_item_recomputes(bank):
    item = find_item(bank.get(54), "full-vs-lora-memory")
    assert item.unit == "×" and item.accepts(evaluate(item.derivation.expression)) and item.accepts(7.81)


def test_near_identical_parameter_count_items_are_merged(bank):
    ids = {i.id for i in bank.get(54).concepts}
    assert "lora-params-one-layer" not in ids and "lora-single-matrix-reduction" not in ids
    assert "131,072 per block" in find_item(bank.get(54), "lora-params-llama2-qv").explanation


def test_design_and_spot_the_bug_items(bank):
    q = bank.get(54)
    designs = [i for i in q.concepts if isinstance(i, DesignItem)]
    assert len(designs) >= 2 and all(4 <= len(d.rubric) <= 6 for d in designs)
    bug = find_item(q, "bug-lora-init")
    assert isinstance(bug, BugItem)
    line = bug.lines[bug.bug_line - 1]
    assert "self.B" in line and "kaiming" in line
    assert "zeros_" in bug.explanation
