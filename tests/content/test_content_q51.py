"""Question 51 (GPT vs LLaMA vs Claude): the corrections of issue 12 and the 2025-26 material."""

import re

from bank_items import find_item

from quizgen.bank.arithmetic import evaluate
from quizgen.bank.models import BugItem, DesignItem, NumericItem


def _asserted_text(q) -> str:
    """Everything the bank states as true: not the pitfalls' wrong claims or the wrong options."""
    parts = [q.answer] + [p.correction for p in q.pitfalls]
    for item in q.concepts:
        parts += [item.prompt, item.explanation, getattr(item, "answer", "") or ""]
        parts += [o.text for o in getattr(item, "options", []) if o.correct]
    return "\n".join(str(p) for p in parts)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", _flat(text))


def test_gpt4_and_claude_are_not_called_decoder_only(bank):
    q = bank.get(51)
    answer = _flat(q.answer)
    assert "all three are" not in answer.lower()
    for sentence in _sentences(answer):
        if "decoder-only" in sentence.lower() and "cannot" not in sentence and "not" not in sentence.split():
            assert "GPT-4" not in sentence and "Claude" not in sentence, sentence
    first = next(s for s in _sentences(answer) if "decoder-only" in s.lower())
    assert "GPT-2" in first and "LLaMA" in first
    # the source of the correction: the report's own words, and the report in the references
    assert "Transformer-style" in answer and "GPT-4 Technical Report" in answer
    assert "image" in answer and "undisclosed" in answer.lower()
    assert any(r.url.host == "arxiv.org" and "2303.08774" in str(r.url) for r in q.references)
    assert any("decoder-only" in p.claim and "Transformer-style" in p.correction for p in q.pitfalls)


def test_llama2_gqa_is_said_of_34b_and_70b_of_which_only_70b_was_released(bank):
    q = bank.get(51)
    answer = _flat(q.answer)
    assert "A.2.1" in answer and "34B" in answer and "not released" in answer
    assert "of the released models only the 70B uses GQA" in answer
    text = _flat(_asserted_text(q))
    for m in re.finditer(r"only the 70b", text, flags=re.I):
        window = text[max(0, m.start() - 80): m.end() + 20].lower()
        assert "released" in window, f"bare 'only the 70B' claim: ...{text[m.start() - 80:m.end() + 40]}..."
    assert "from Llama-2-70B on" not in text
    item = find_item(q, "llama2-gqa-sizes")
    right = next(o.text for o in item.options if o.correct)
    assert "34B" in right and "70B" in right and "released" in right
    assert any("Llama 2" in r.title and "2307.09288" in str(r.url) for r in q.references)


def test_rope_frequencies_use_the_head_dimension(bank):
    q = bank.get(51)
    assert r"\theta_i = 10000^{-2i/d_h}" in q.answer
    assert "head dimension" in q.answer and "not the model width" in _flat(q.answer)
    assert not re.search(r"10000\^\{-2i/d\}", _asserted_text(q))
    item = find_item(q, "rope-angle")
    assert "4096 / 32" in item.derivation.expression and evaluate(item.derivation.expression) == 5.0
    assert not item.exact  # an angle, not a count
    assert any("RoFormer" in r.title for r in q.references)


def test_2025_26_part_covers_gpt_oss_mla_qk_norm_and_rope_scaling(bank):
    q = bank.get(51)
    answer = _flat(q.answer)
    assert "**2025-26" in answer
    for term in ("gpt-oss", "117B", "5.1B", "MXFP4", "128-token", "latent attention", "QK-norm",
                 "RoPE scaling", "YaRN", "position interpolation", "Llama 3.1"):
        assert term in answer, term
    urls = " ".join(str(r.url) for r in q.references)
    for arxiv_id in ("2508.10925", "2405.04434", "2412.19437", "2501.00656", "2503.19786", "2309.00071",
                     "2306.15595", "2310.10537"):
        assert arxiv_id in urls, arxiv_id
    assert "github.com/openai/gpt-oss" in urls
    ids = {i.id for i in q.concepts}
    assert {"gpt-oss-single-gpu", "mla-what-is-cached", "rope-scaling-high-freq", "qk-norm-statements",
            "mla-cache-bytes"} <= ids


def test_mla_and_gqa_cache_items_recompute_their_bytes(bank):
    q = bank.get(51)
    mla = find_item(q, "mla-cache-bytes")
    assert mla.exact and mla.answer == (512 + 64) * 2 * 61 and mla.unit == "bytes"
    kv = find_item(q, "llama2-70b-kv-cache")
    assert kv.unit == "GB" and kv.accepts(2 * 80 * 8 * 128 * 2 * 4096 / 1e9)


def test_trivia_size_item_is_replaced_by_a_scenario(bank):
    ids = {i.id for i in bank.get(51).concepts}
    assert "llama1-sizes" not in ids and "gqa-kv-cache-factor" not in ids
    assert "33B" in bank.get(51).answer  # the fact stays in the answer


def test_design_and_spot_the_bug_items(bank):
    q = bank.get(51)
    designs = [i for i in q.concepts if isinstance(i, DesignItem)]
    bugs = [i for i in q.concepts if isinstance(i, BugItem)]
    assert len(designs) >= 2 and len(bugs) >= 1
    for d in designs:
        assert 4 <= len(d.rubric) <= 6 and len(d.answer.split()) >= 60
    bug = find_item(q, "bug-gqa-repeat")
    assert ".repeat(" in bug.lines[bug.bug_line - 1]
    assert all(".repeat(" in bug.lines[n - 1] for n in bug.also_accept)
    assert "repeat_interleave" in bug.explanation


def test_numeric_items_have_units_where_the_answer_has_one(bank):
    for item in bank.get(51).concepts:
        if isinstance(item, NumericItem) and item.id != "swiglu-hidden-size":
            assert item.unit, item.id
