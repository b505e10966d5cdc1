"""Question 62 (pruning): the rounding convention is stated as PyTorch's without calling others wrong,
the global-pruning claim is sourced (Blalock et al. 2020), the 2025-26 part (lottery tickets,
SparseGPT/Wanda, Minitron), the new item kinds, and that the spot-the-bug line is the bug."""

from __future__ import annotations

import torch
from bank_items import find_item, run_snippet

QID = 62


def _all_text(q) -> str:
    parts = [q.answer] + [p.claim + " " + p.correction for p in q.pitfalls]
    for item in q.concepts:
        parts += [item.prompt, item.explanation]
        parts += [o.text for o in getattr(item, "options", [])]
    return "\n".join(parts)


def test_rounding_pitfall_states_pytorch_convention_without_calling_others_wrong(bank):
    q = bank.get(QID)
    pitfall = next(p for p in q.pitfalls if "ceil" in p.claim)
    assert "PyTorch" in pitfall.claim or "torch.nn.utils.prune" in pitfall.claim
    assert "round(" in pitfall.correction and "halves" in pitfall.correction and "even" in pitfall.correction
    assert "Other libraries" in pitfall.correction
    text = _all_text(q).lower()
    assert "off-by-one" not in text
    assert "ceil would give 3" not in text


def test_round_half_even_item_is_a_scenario(bank):
    item = find_item(bank.get(QID), "prune-round-half-even")
    assert "parity" in item.prompt.lower()
    assert "_compute_nparams_toprune" in item.explanation
    assert round(0.5 * 5) == 2  # the convention the item teaches


def test_global_pruning_claim_cites_blalock_2020(bank):
    q = bank.get(QID)
    assert "Blalock" in q.answer and "global" in q.answer.lower()
    ref = next(r for r in q.references if r.title == "What is the State of Neural Network Pruning?")
    assert ref.year == 2020 and "2003.03033" in str(ref.url) and "Blalock" in ref.authors
    flashcard = find_item(q, "prune-global-vs-layer")
    assert "Blalock" in flashcard.answer


def test_2025_26_part_covers_lottery_tickets_llm_pruning_and_minitron(bank):
    q = bank.get(QID)
    answer = q.answer
    assert "2025-26" in answer
    for term in ("Lottery tickets", "rewound", "SparseGPT", "Wanda", "output row", "Minitron", "distillation",
                 "40×"):
        assert term in answer, term
    urls = " ".join(str(r.url) for r in q.references)
    for arxiv in ("1803.03635", "1912.05671", "2301.00774", "2306.11695", "2407.14679"):
        assert arxiv in urls, arxiv


def test_2_4_memory_item_follows_from_the_bits(bank):
    item = find_item(bank.get(QID), "prune-2-4-memory")
    dense_mib = 4096 * 4096 * 2 / 2**20
    assert item.unit == "MiB" and item.accepts(dense_mib * 9 / 16)


def test_spot_the_bug_line_is_the_topk_over_the_wrong_axis(bank):
    item = find_item(bank.get(QID), "prune-bug-wanda-mask")
    assert "dim=0" in item.lines[item.bug_line - 1] and "topk" in item.lines[item.bug_line - 1]

    torch.manual_seed(0)
    W, X, sparsity = torch.randn(6, 8, dtype=torch.float64), torch.randn(32, 8, dtype=torch.float64), 0.5
    score = W.abs() * X.norm(dim=0)
    expected = torch.ones_like(W, dtype=torch.bool)
    expected.scatter_(1, score.argsort(dim=1)[:, :4], False)  # the 4 lowest scores of each row

    fixed = run_snippet(item.code, {item.bug_line: "idx = torch.topk(score, k, dim=1, largest=False).indices"})
    assert torch.equal(fixed["wanda_mask"](W, X, sparsity), expected)
    buggy = run_snippet(item.code)
    try:
        wrong = buggy["wanda_mask"](W, X, sparsity)
    except RuntimeError:
        return  # shapes that do not fit also prove the line wrong
    assert not torch.equal(wrong, expected)
