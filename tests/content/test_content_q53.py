"""Question 53 (sparse attention): window conventions, the Sparse Transformer's local set, the 32.26
ratio, and the 2025-26 material of issue 12."""

import re

from bank_items import find_item

from quizgen.bank.models import BugItem, DesignItem


def test_mistral_window_convention_is_not_called_an_error(bank):
    q = bank.get(53)
    claims = [p.claim for p in q.pitfalls]
    assert "A window of w means query i attends keys i − w through i." not in claims
    pitfall = next(p for p in q.pitfalls if "Window W" in p.claim)
    assert "Conventions differ" in pitfall.correction and "Mistral" in pitfall.correction
    assert "None is an error" in pitfall.correction
    assert "we define" in q.answer and "Mistral 7B describes" in q.answer
    assert r"k \cdot W" in q.answer and "Neither is wrong" in q.answer
    reach = next(p for p in q.pitfalls if "never use information" in p.claim)
    assert "L(w − 1)" in reach.correction and "L·W" in reach.correction
    assert any("2310.06825" in str(r.url) for r in q.references)


def test_child_et_al_local_set_is_quoted_as_theirs_and_ours_is_ours(bank):
    q = bank.get(53)
    answer = " ".join(q.answer.split())
    assert r"t = \max(0, i - l)" in answer and "l + 1" in answer
    sentence = next(s for s in re.split(r"(?<=[.;])\s+", answer) if r"$0 \le i - j < l$" in s)
    assert "we define" in sentence, sentence
    assert not re.search(r"Child et al\. 2019\) factorizes attention into a local head \(\$0", answer)
    assert any("1904.10509" in str(r.url) for r in q.references)


def test_window_ratio_explanation_quotes_an_accepted_value(bank):
    item = find_item(bank.get(53), "window-vs-full-ratio")
    assert "about 32.3×" in item.explanation and item.accepts(32.3)
    assert "about 32×" not in item.explanation


def test_2025_26_part_covers_bounded_cache_hybrids_sinks_and_learned_sparsity(bank):
    q = bank.get(53)
    answer = " ".join(q.answer.split())
    assert "**2025-26" in answer
    for term in ("Bounded KV cache", "rolling buffer", "Local/global hybrids", "Gemma 2", "Gemma 3",
                 "gpt-oss", "Attention sinks", "StreamingLLM", "NSA", "MoBA", "Learned"):
        assert term in answer, term
    urls = " ".join(str(r.url) for r in q.references)
    for arxiv_id in ("2309.17453", "2502.11089", "2502.13189", "2503.19786", "2408.00118", "2508.10925"):
        assert arxiv_id in urls, arxiv_id
    ids = {i.id for i in q.concepts}
    assert {"rolling-cache-gb", "hybrid-kv-share", "attention-sink-eviction", "learned-sparsity-statements"} <= ids


def test_pair_count_variant_is_merged_into_the_ratio(bank):
    q = bank.get(53)
    ids = {i.id for i in q.concepts}
    assert "sliding-window-pairs" not in ids
    assert "65{,}040" in find_item(q, "window-vs-full-ratio").explanation


def test_design_and_spot_the_bug_items(bank):
    q = bank.get(53)
    designs = [i for i in q.concepts if isinstance(i, DesignItem)]
    assert len(designs) >= 2 and all(4 <= len(d.rubric) <= 6 for d in designs)
    bug = find_item(q, "bug-window-mask")
    assert isinstance(bug, BugItem) and "i - j <= window" in bug.lines[bug.bug_line - 1]
    assert "i - j < window" in bug.explanation
