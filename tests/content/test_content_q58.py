"""Question 58 (FlashAttention): memory footprint and HBM traffic are kept apart after the IO
theorem, the 2025-26 part (FA-2, FA-3, FA-4, FlashDecoding / split-KV), the systems-arithmetic
items, and a spot-the-bug snippet that really is wrong."""

import math
import re

import torch
from bank_items import find_item

from quizgen.bank.arithmetic import evaluate
from quizgen.bank.models import BugItem, DesignItem, NumericItem


def _paragraph(answer, marker):
    return next(p for p in re.split(r"\n\s*\n|\n\s*- ", answer) if marker in p)


def test_memory_footprint_and_hbm_traffic_are_separate_results(bank):
    q = bank.get(58)
    footprint = " ".join(_paragraph(q.answer, "*Footprint*").split())
    traffic = " ".join(_paragraph(q.answer, "*Traffic*").split())
    assert "Theorem 1" in footprint and "$O(N)$" in footprint and "grows with $N$" in footprint
    assert "10× at sequence length 2K and 20× at 4K" in footprint
    assert "Theorem 2" in traffic and r"\Theta(N^2 d^2 M^{-1})" in traffic
    assert "$M/d^2$" in traffic and "not by $N$" in traffic
    assert "memory saving" not in traffic and "grows with" not in traffic
    pitfall = next(p for p in q.pitfalls if "IO theorem" in p.claim)
    assert "Theorem 1" in pitfall.correction and "Theorem 2" in pitfall.correction


def test_2025_26_part_covers_fa2_fa3_fa4_and_flashdecoding(bank):
    q = bank.get(58)
    answer = " ".join(q.answer.split())
    assert "**2025-26" in answer
    for term in ("FA-2", "non-matmul", "312 TFLOP/s", "19.5 TFLOP/s", "split", "FA-3", "35%",
                 "warp specialization", "TMA", "WGMMA", "incoherent processing", "740 TFLOP/s",
                 "FA-4", "Blackwell", "FlashDecoding", "split-KV", "num_splits", "flash_attn_with_kvcache"):
        assert term in answer, term
    assert r"O = \sum_i e^{\mathrm{LSE}_i - \mathrm{LSE}}\, O_i" in q.answer
    urls = " ".join(str(r.url) for r in q.references)
    for ref in ("2307.08691", "2407.08608", "2603.05451", "crfm.stanford.edu/2023/10/12/flashdecoding"):
        assert ref in urls, ref


def test_score_matrix_memory_versus_flashattention_statistics(bank):
    q = bank.get(58)
    heads, n = 32, 8192
    scores = find_item(q, "score-matrix-gib")
    stats = find_item(q, "flash-stats-mib")
    assert scores.unit == "GiB" and scores.accepts(heads * n * n * 2 / 2**30) and scores.answer == 4
    assert stats.unit == "MiB" and stats.accepts(heads * n * 4 / 2**20) and stats.answer == 1
    assert (scores.answer * 2**30) / (stats.answer * 2**20) == n * 2 / 4 == 4096
    share = find_item(q, "standard-attention-traffic-share")
    assert share.unit == "%" and share.accepts(100 * n / (n + 128))
    kv = find_item(q, "kv-bytes-per-decode-step")
    assert kv.unit == "MiB" and kv.accepts(2 * 131072 * 8 * 128 * 2 / 2**20)
    assert "attention-matrix-mib" not in {i.id for i in q.concepts}  # merged into score-matrix-gib


def test_split_kv_merge_weight_is_the_softmax_mass_of_the_split(bank):
    item = find_item(bank.get(58), "split-kv-merge-weight")
    lse_a, lse_b = math.log(math.exp(1) + math.exp(2)), 3.0
    lse = math.log(math.exp(lse_a) + math.exp(lse_b))
    assert item.accepts(math.exp(lse_b - lse)) and item.accepts(math.exp(3) / sum(math.exp(s) for s in (1, 2, 3)))
    assert item.accepts(evaluate(item.derivation.expression))


def test_online_softmax_bug_snippet_is_wrong_and_the_fix_is_exact(bank):
    bug = next(i for i in bank.get(58).concepts if isinstance(i, BugItem))
    line = bug.lines[bug.bug_line - 1].strip()
    assert line == "acc = acc + p @ v[j:j + block]"
    torch.manual_seed(0)
    d = 16
    q, k, v = torch.randn(d, dtype=torch.float64), torch.randn(200, d, dtype=torch.float64), torch.randn(200, d, dtype=torch.float64)
    k[150] = 3 * q  # the largest score arrives in a later block
    reference = torch.softmax(k @ q / math.sqrt(d), 0) @ v
    buggy, fixed = {}, {}
    exec(bug.code, buggy)
    exec(bug.code.replace("acc = acc + p @", "acc = alpha * acc + p @"), fixed)
    assert not torch.allclose(buggy["tiled_attention_row"](q, k, v), reference)
    assert torch.allclose(fixed["tiled_attention_row"](q, k, v), reference)
    assert "alpha * acc" in bug.explanation


def test_design_items_and_systems_arithmetic_exist(bank):
    q = bank.get(58)
    designs = {i.id for i in q.concepts if isinstance(i, DesignItem)}
    assert designs == {"design-long-context-decode", "design-attention-new-gpu"}
    numerics = [i for i in q.concepts if isinstance(i, NumericItem)]
    assert sum(i.unit in ("GiB", "MiB", "%") for i in numerics) >= 3
    assert "io-complexity" not in {i.id for i in q.concepts}  # the theorem-recall item became a scenario
