"""Question 64 (speculative decoding): the residual pitfall names the mass at the rejected position, the
2025-26 part (Medusa, EAGLE, tree verification, batch size, choosing gamma), the new item kinds, and that
the gamma item and the spot-the-bug line agree with the algorithm."""

from __future__ import annotations

import torch
from bank_items import find_item, run_snippet

from quizgen.bank.models import ChoiceItem
from quizgen.grading.task import Task

QID = 64


def _speedup(alpha: float, gamma: int, c: float) -> float:
    return (1 - alpha ** (gamma + 1)) / ((1 - alpha) * (gamma * c + 1))


def test_residual_pitfall_says_the_mass_at_that_position(bank):
    q = bank.get(QID)
    pitfall = next(p for p in q.pitfalls if "After a rejection" in p.claim)
    assert "at that position" in pitfall.correction
    assert "min(p, q)" in pitfall.correction
    assert "covered by accepted drafts" not in pitfall.correction


def test_2025_26_part_covers_medusa_eagle_trees_batching_and_gamma(bank):
    q = bank.get(QID)
    answer = q.answer
    assert "2025-26" in answer
    for term in ("Medusa", "typical acceptance", "EAGLE", "EAGLE-2", "EAGLE-3", "tree attention mask",
                 "SpecInfer", "Batch size erodes the speedup", "compute-bound", "Choosing $\\gamma$"):
        assert term in answer, term
    urls = " ".join(str(r.url) for r in q.references)
    for arxiv in ("2401.10774", "2401.15077", "2406.16858", "2503.01840", "2305.09781", "2310.18813",
                  "2408.11049"):
        assert arxiv in urls, arxiv


def test_walltime_formula_is_a_display_block(bank):
    answer = bank.get(QID).answer
    assert "$$S(\\gamma) = \\frac{1 - \\alpha^{\\gamma+1}}{(1-\\alpha)(\\gamma c + 1)}.$$" in answer


def test_choose_gamma_item_picks_the_argmax_of_the_speedup(bank):
    item = find_item(bank.get(QID), "spec-choose-gamma")
    assert isinstance(item, ChoiceItem)
    best = max(range(1, 30), key=lambda g: _speedup(0.6, g, 0.1))
    right = next(o.text for o in item.options if o.correct)
    assert right == f"$\\gamma = {best}$"
    assert max(range(1, 30), key=lambda g: _speedup(0.8, g, 0.05)) == 8  # quoted in the explanation
    assert "$\\gamma = 8$" in item.explanation


def test_batch_erosion_item_is_below_the_batch_one_speedup(bank):
    q = bank.get(QID)
    erosion, batch_one = find_item(q, "spec-batch-erosion"), find_item(q, "spec-walltime")
    assert 1 < erosion.answer < batch_one.answer
    assert erosion.accepts(((1 - 0.8**5) / 0.2) / (128 * 5 / 295 + 0.2))


def test_spot_the_bug_line_is_the_inverted_residual(bank):
    q = bank.get(QID)
    item = find_item(q, "spec-bug-verify")
    assert "q[i] - p[i]" in item.lines[item.bug_line - 1]
    reference = Task.of(q).load_reference()
    fixed = run_snippet(item.code, {item.bug_line: "residual = torch.clamp(p[i] - q[i], min=0)"})
    buggy = run_snippet(item.code)

    # all distributions distinct, ratios 0.5, 0.25 and 2.0 at the drafted tokens (facts.md, Q64 (d))
    p = torch.tensor([[0.1, 0.6, 0.3], [0.2, 0.1, 0.7], [0.5, 0.4, 0.1], [0.3, 0.3, 0.4]], dtype=torch.float64)
    q_ = torch.tensor([[0.2, 0.5, 0.3], [0.1, 0.4, 0.5], [0.25, 0.35, 0.4]], dtype=torch.float64)
    draft = torch.tensor([0, 1, 0])
    for u in (torch.tensor([0.3, 0.9, 0.1]), torch.tensor([0.6, 0.1, 0.1]), torch.tensor([0.1, 0.1, 0.1])):
        n_ref, dist_ref = reference.speculative_verify(p, q_, draft, u)
        n_fix, dist_fix = fixed["verify"](p, q_, draft, u)
        assert n_fix == n_ref and torch.allclose(dist_fix, dist_ref)
    n_bug, dist_bug = buggy["verify"](p, q_, draft, torch.tensor([0.3, 0.9, 0.1]))
    n_ref, dist_ref = reference.speculative_verify(p, q_, draft, torch.tensor([0.3, 0.9, 0.1]))
    assert n_bug == n_ref and not torch.allclose(dist_bug, dist_ref)
