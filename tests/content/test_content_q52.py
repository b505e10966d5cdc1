"""Question 52 (Mixture of Experts): notation fixes and the 2025-26 material of issue 12."""

from bank_items import find_item

from quizgen.bank.arithmetic import evaluate
from quizgen.bank.models import BugItem, DesignItem


def test_indicator_notation_renders(bank):
    q = bank.get(52)
    assert r"\mathbb{1}\{" not in q.answer and "1{" not in q.answer.replace(r"\mathbb{1}", "")
    assert r"\mathbb{1}\big[\arg\max_j p_j(x) = i\big]" in q.answer


def test_2025_26_part_covers_deepseek_moe_balancing_and_systems(bank):
    q = bank.get(52)
    answer = " ".join(q.answer.split())
    assert "**2025-26" in answer
    for term in ("DeepSeekMoE", "shared", "fine-grained", "671B", "37B", "256 routed",
                 "Auxiliary-loss-free", "only when choosing", "all-to-all", "Expert parallelism",
                 "dispatch", "combine", "Capacity factor", "Dropless", "MegaBlocks", "drops no tokens"):
        assert term in answer, term
    urls = " ".join(str(r.url) for r in q.references)
    for arxiv_id in ("2401.06066", "2412.19437", "2408.15664", "2211.15841", "2006.16668"):
        assert arxiv_id in urls, arxiv_id


def test_loss_free_bias_enters_selection_only(bank):
    q = bank.get(52)
    item = find_item(q, "aux-free-bias-role")
    right = next(o.text for o in item.options if o.correct)
    assert "top-k" in right and "unbiased" in right
    assert any("bias" in p.claim and "selected" in p.correction for p in q.pitfalls)


def test_capacity_and_decode_bandwidth_items_recompute(bank):
    q = bank.get(52)
    cap = find_item(q, "expert-capacity")
    assert cap.exact and cap.answer == 1.25 * 2 * 8192 / 64 and cap.unit == "tokens"
    touched = find_item(q, "experts-touched-decode")
    assert touched.accepts(evaluate(touched.derivation.expression)) and touched.accepts(5.47)


def test_near_identical_aux_loss_items_are_merged(bank):
    ids = {i.id for i in bank.get(52).concepts}
    assert "switch-aux-collapsed" not in ids and "topk-balanced-loss" in ids
    assert "0.08" in find_item(bank.get(52), "topk-balanced-loss").explanation  # the collapsed case survives


def test_items_other_tests_rely_on_are_kept(bank):
    q = bank.get(52)
    assert q.concepts[0].id == "moe-total-vs-active"
    assert find_item(q, "switch-gate-value").prompt == "In a Switch (top-1) layer, what multiplies the chosen expert's output?"
    pct = find_item(q, "mixtral-active-percent")
    assert pct.answer == 27.66 and pct.rel_tolerance == 0.0181 and "13 / 47 ≈ 0.277" in pct.explanation
    assert find_item(q, "mixtral-not-56b")


def test_design_and_spot_the_bug_items(bank):
    q = bank.get(52)
    designs = [i for i in q.concepts if isinstance(i, DesignItem)]
    assert len(designs) >= 2 and all(4 <= len(d.rubric) <= 6 for d in designs)
    bug = find_item(q, "bug-router-softmax")
    assert isinstance(bug, BugItem)
    assert "softmax" in bug.lines[bug.bug_line - 1] and "dim=0" in bug.lines[bug.bug_line - 1]
    assert "dim=-1" in bug.explanation
