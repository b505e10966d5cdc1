"""Question 60 (quantization modes): the corrected "dynamic = lower memory" summary stays corrected,
the 2025-26 part (per-token dynamic scales, why outliers break static per-tensor scales), the
outlier arithmetic, and a spot-the-bug snippet that really is wrong."""


import torch
from bank_items import find_item

from quizgen.bank.models import BugItem, DesignItem


def test_half_wrong_summary_stays_corrected(bank):
    q = bank.get(60)
    pitfall = next(p for p in q.pitfalls if p.claim.startswith("Dynamic quantization uses less memory"))
    assert "Weights are int8 in both" in pitfall.correction
    assert "**The common one-line comparison is half wrong.**" in q.answer


def test_2025_26_part_explains_per_token_scales_and_outliers(bank):
    q = bank.get(60)
    answer = " ".join(q.answer.split())
    assert "**2025-26" in answer
    for term in ("per token", r"s_t = \max_j |x_{tj}|/127", "/448", "outer dimensions",
                 r"y_{to} = s_t\, s_o \sum_j q_{tj}\, q_{oj}", "Why outliers break static per-tensor scales",
                 "6.7B", "calibration token", "saturates", "not to the channels within a token",
                 "SmoothQuant", "O1", "O3", "LLM.int8()", "1×128", "FP8_DYNAMIC"):
        assert term in answer, term
    urls = " ".join(str(r.url) for r in q.references)
    for ref in ("2211.10438", "2208.07339", "2412.19437", "llm-compressor"):
        assert ref in urls, ref
    assert any("Per-token dynamic scales solve" in p.claim for p in q.pitfalls)


def test_per_token_and_per_output_channel_scales_factor_out_of_the_gemm():
    torch.manual_seed(0)
    x, w = torch.randn(5, 16, dtype=torch.float64), torch.randn(7, 16, dtype=torch.float64)
    s_t, s_o = x.abs().amax(1, keepdim=True) / 127, w.abs().amax(1, keepdim=True) / 127
    q_x, q_w = torch.round(x / s_t), torch.round(w / s_o)
    y = s_t * s_o.T * (q_x @ q_w.T)  # one integer GEMM, rescaled along rows and columns
    assert torch.allclose(y, (q_x * s_t) @ (q_w * s_o).T)
    s_j = x.abs().amax(0, keepdim=True) / 127  # per input channel: varies along the summed dimension
    q_xj = torch.round(x / s_j)
    assert not torch.allclose((q_xj @ q_w.T) * s_j.mean() * s_o.T, (q_xj * s_j) @ (q_w * s_o).T)


def test_outlier_item_counts_the_codes_left_for_ordinary_values(bank):
    item = find_item(bank.get(60), "outlier-int8-levels")
    codes = torch.round(torch.linspace(-1, 1, 2001, dtype=torch.float64) / (60 / 127)).unique()
    assert item.exact and item.answer == len(codes) == 5
    assert "per-token" in item.explanation.lower() and "SmoothQuant" in item.explanation


def test_per_token_bug_snippet_is_wrong_and_the_fix_is_right(bank):
    bug = next(i for i in bank.get(60).concepts if isinstance(i, BugItem))
    assert bug.lines[bug.bug_line - 1].strip() == "absmax = x.abs().amax(dim=0, keepdim=True)"
    torch.manual_seed(0)
    x, w = torch.randn(6, 16), torch.randn(16, 16)
    w_scale = w.abs().amax(1) / 127
    w_q = torch.round(w / w_scale[:, None]).to(torch.int8)
    reference = x @ (w_q.float() * w_scale[:, None]).T
    buggy, fixed = {}, {}
    exec(bug.code, buggy)
    exec(bug.code.replace("amax(dim=0,", "amax(dim=-1,"), fixed)
    bad = (buggy["w8a8_linear"](x, w_q, w_scale) - reference).abs().max()
    good = (fixed["w8a8_linear"](x, w_q, w_scale) - reference).abs().max()
    assert bad > 10 * good and good < 0.02 * reference.abs().max()
    assert "dim=-1" in bug.explanation


def test_design_items(bank):
    q = bank.get(60)
    designs = {i.id for i in q.concepts if isinstance(i, DesignItem)}
    assert designs == {"design-w8a8-accuracy-drop", "design-choose-mode-deployments"}
    assert not find_item(q, "dynamic-step-ratio").exact  # a ratio, not a count
