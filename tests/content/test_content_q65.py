"""Question 65 (serving): the 2025-26 part (disaggregation, chunked prefill, prefix caching, the roofline
batch size, goodput), the systems-arithmetic items with their stated sources, maths that renders (no
escaped underscores), the new item kinds, and that the spot-the-bug line is the GQA bug."""

from __future__ import annotations

import re

import torch
from bank_items import find_item, run_snippet

from quizgen.bank.models import NumericItem
from quizgen.grading.task import Task

QID = 65


def test_2025_26_part_covers_disaggregation_chunked_prefill_prefix_caching_roofline_goodput(bank):
    q = bank.get(QID)
    answer = q.answer
    assert "2025-26" in answer
    for term in ("Disaggregated prefill and decode", "Chunked prefill", "Prefix caching", "RadixAttention",
                 "ridge point", "compute-bound", "goodput", "SLO", "DistServe", "Sarathi-Serve", "Splitwise"):
        assert term in answer, term
    urls = " ".join(str(r.url) for r in q.references)
    for source in ("osdi24/presentation/zhong-yinmin", "2311.18677", "2403.02310", "2312.07104",
                   "nvidia.com/en-us/data-center/h100", "docs.vllm.ai"):
        assert source in urls, source


def test_roofline_batch_item_uses_dense_flops_and_names_its_source(bank):
    q = bank.get(QID)
    item = find_item(q, "serve-roofline-batch")
    assert "datasheet" in item.prompt and "with sparsity" in item.prompt
    assert item.unit == "sequences" and item.accepts(1979e12 / 2 / 3.35e12)
    assert not item.accepts(1979e12 / 3.35e12)  # the sparse figure would double it
    assert "1,979 TFLOPS BF16 *with sparsity*" in q.answer


def test_kv_ceiling_item_shows_long_context_decode_stays_memory_bound(bank):
    q = bank.get(QID)
    ceiling, ridge = find_item(q, "serve-kv-intensity-ceiling"), find_item(q, "serve-roofline-batch")
    per_token = 2 * 80 * 8 * 128 * 2
    assert per_token == 327_680
    assert ceiling.accepts(2 * 70e9 / (per_token * 4096))
    assert ceiling.answer < ridge.answer


def test_kv_budget_and_prefix_cache_items_are_exact_counts(bank):
    q = bank.get(QID)
    sequences = find_item(q, "serve-max-sequences")
    assert sequences.exact and sequences.answer == 80 * 2**30 // (327_680 * 4096)
    prefix = find_item(q, "serve-prefix-cache-blocks")
    assert prefix.exact and prefix.answer == (2008 // 16) * 63
    assert "full blocks" in prefix.prompt


def test_numeric_items_have_units(bank):
    for item in bank.get(QID).concepts:
        if isinstance(item, NumericItem):
            assert item.unit, item.id


def test_maths_has_no_escaped_underscores(bank):
    q = bank.get(QID)
    texts = [q.answer] + [i.prompt + i.explanation + getattr(i, "answer", "") for i in q.concepts
                          if isinstance(getattr(i, "answer", ""), str)]
    for text in texts:
        assert "\\_" not in text
    assert r"n_{\text{kv}}" in q.answer


def test_no_long_inline_formulas(bank):
    text = re.sub(r"\$\$.+?\$\$", "", bank.get(QID).answer, flags=re.S)
    inline = re.findall(r"\$(.+?)\$", text, flags=re.S)
    assert inline and all(len(f) <= 80 for f in inline), [f for f in inline if len(f) > 80]


def test_spot_the_bug_line_is_repeat_instead_of_repeat_interleave(bank):
    q = bank.get(QID)
    item = find_item(q, "serve-bug-paged-gqa")
    assert "k.repeat(" in item.lines[item.bug_line - 1]
    reference = Task.of(q).load_reference()
    torch.manual_seed(0)
    H, Hkv, D, block_size = 8, 2, 16, 16
    qv = torch.randn(H, D, dtype=torch.float64)
    k_cache = torch.randn(10, block_size, Hkv, D, dtype=torch.float64)
    v_cache = torch.randn(10, block_size, Hkv, D, dtype=torch.float64)
    table = torch.tensor([7, 2, 5])
    expected = reference.paged_decode_attention(qv, k_cache, v_cache, table, 37)

    fixed = run_snippet(item.code, {item.bug_line: "k = k.repeat_interleave(H // Hkv, dim=1)"})
    assert torch.allclose(fixed["paged_decode"](qv, k_cache, v_cache, table, 37), expected, atol=1e-9)
    buggy = run_snippet(item.code)
    assert not torch.allclose(buggy["paged_decode"](qv, k_cache, v_cache, table, 37), expected, atol=1e-3)
