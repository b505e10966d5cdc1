"""Question 59 (quantization): the two pitfalls that called other frameworks' conventions errors now
name them as conventions, with sources; the 2025-26 part on LLM post-training quantization; and a
spot-the-bug snippet that really is wrong."""

from decimal import ROUND_HALF_UP, Decimal

import torch
from bank_items import find_item

from quizgen.bank.models import BugItem, ChoiceItem, DesignItem, NumericItem


def _urls(q):
    return " ".join(str(r.url) for r in q.references)


def test_symmetric_scale_is_presented_as_pytorch_convention_not_the_only_right_one(bank):
    q = bank.get(59)
    answer = " ".join(q.answer.split())
    assert "not 127." not in answer
    assert "That is PyTorch's convention, not the only correct one" in answer
    pitfall = next(p for p in q.pitfalls if "127" in p.claim)
    correction = " ".join(pitfall.correction.split())
    assert correction.startswith("Both are conventions")
    for term in ("127.5", "LLM.int8()", r"\operatorname{round}(127 \cdot X/\max|X|)", "TensorRT", "TFLite", "$[-127, 127]$"):
        assert term in correction, term
    urls = _urls(q)
    assert "2208.07339" in urls and "quantization_spec" in urls and "developer-guide" in urls


def test_rounding_is_presented_as_pytorch_convention_with_tflite_and_tensorrt_rules(bank):
    q = bank.get(59)
    pitfall = next(p for p in q.pitfalls if "half away from zero" in p.claim)
    correction = " ".join(pitfall.correction.split())
    assert "TFLite's rule (`std::round`)" in correction and "half to even" in correction and "TensorRT" in correction
    assert "cppmath.h" in _urls(q)
    # the two rules really differ only on ties: PyTorch rounds half to even, std::round half away from zero
    ties = [0.5, 1.5, 2.5, -0.5, -2.5]
    assert torch.round(torch.tensor(ties)).tolist() == [0.0, 2.0, 2.0, -0.0, -2.0]
    away = [float(Decimal(str(t)).quantize(Decimal(1), rounding=ROUND_HALF_UP)) for t in ties]
    assert away == [1.0, 2.0, 3.0, -1.0, -3.0]
    item = find_item(q, "tie-rounding-mismatch")
    assert "std::round" in next(o.text for o in item.options if o.correct)


def test_no_numeric_item_pretends_to_separate_127_from_127_5(bank):
    q = bank.get(59)
    for item in q.concepts:
        if isinstance(item, NumericItem):
            assert not (item.accepts(3 / 127) and item.accepts(3 / 127.5)), item.id
    choice = find_item(q, "symmetric-convention-mismatch")
    assert isinstance(choice, ChoiceItem)
    assert "127.5" in next(o.text for o in choice.options if o.correct)
    assert abs(127.5 / 127 - 1 - 0.0039) < 1e-4


def test_2025_26_part_covers_llm_post_training_quantization(bank):
    q = bank.get(59)
    answer = " ".join(q.answer.split())
    assert "**2025-26" in answer
    for term in ("LLM.int8()", "mixed-precision decomposition", "6.7B", "SmoothQuant", "GPTQ", "AWQ",
                 "group-wise scales", "4.125 bits", "W4A16", "W8A8", "E4M3", "E5M2", "448", "57344",
                 "1×128", "MXFP4", "NVFP4", "E8M0", "4.25 bits", "4.5 bits", "gpt-oss", "KV cache",
                 "KIVI", "kv_cache_dtype"):
        assert term in answer, term
    urls = _urls(q)
    for ref in ("2211.10438", "2210.17323", "2306.00978", "2209.05433", "2310.10537", "introducing-nvfp4",
                "2508.10925", "2412.19437", "2402.02750", "quantized_kvcache"):
        assert ref in urls, ref


def test_block_format_arithmetic(bank):
    q = bank.get(59)
    assert 4 + 16 / 128 == 4.125 and 4 + 8 / 32 == 4.25 and 4 + 8 / 16 == 4.5
    item = find_item(q, "w4a16-group128-gb")
    assert item.unit == "GB" and item.accepts(70e9 * 4.125 / 8 / 1e9) and not item.accepts(35.0)
    kv = find_item(q, "kv-fp8-savings-gb")
    assert kv.unit == "GB" and kv.accepts(2 * 80 * 8 * 128 * 16 * 32768 / 1e9)


def test_signed_absmax_bug_snippet_saturates_and_the_fix_does_not(bank):
    bug = next(i for i in bank.get(59).concepts if isinstance(i, BugItem))
    assert bug.lines[bug.bug_line - 1].strip() == "absmax = wg.amax(dim=-1, keepdim=True)"
    torch.manual_seed(0)
    w = torch.randn(4, 256) * 0.02
    w[0, :128] = -w[0, :128].abs()  # one group with only negative weights
    buggy, fixed = {}, {}
    exec(bug.code, buggy)
    exec(bug.code.replace("wg.amax(", "wg.abs().amax("), fixed)
    q_bad, _ = buggy["quantize_int4_groupwise"](w)
    assert (q_bad[0, 0] == -8).all()
    q_ok, s_ok = fixed["quantize_int4_groupwise"](w)
    error = (fixed["dequantize_int4_groupwise"](q_ok, s_ok) - w).abs().max()
    assert error <= (w.abs().amax() / 7 / 2) * 1.0001
    assert "abs().amax" in bug.explanation


def test_design_items(bank):
    q = bank.get(59)
    designs = {i.id for i in q.concepts if isinstance(i, DesignItem)}
    assert designs == {"design-serve-70b-quantized", "design-kv-cache-quantization"}
