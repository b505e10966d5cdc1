"""Question 61 (distillation): the 2025-26 part (GKD, reverse KL / MiniLLM, sequence-level KD), the new
item kinds, and that the worked numbers and the spot-the-bug line are right."""

from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F
from bank_items import find_item, run_snippet

from quizgen.bank.models import ChoiceItem

QID = 61


def _urls(q):
    return {str(r.url) for r in q.references}


def test_answer_keeps_the_t_squared_correction(bank):
    answer = bank.get(QID).answer
    assert "T^2" in answer and "1/T^2" in answer
    assert "batchmean" in answer


def test_2025_26_part_covers_on_policy_reverse_kl_and_sequence_level(bank):
    q = bank.get(QID)
    answer = q.answer
    assert "2025-26" in answer
    for term in ("GKD", "on-policy", "Reverse KL", "MiniLLM", "Sequence-level distillation", "exposure bias",
                 "mode-seeking", "mode-covering"):
        assert term.lower() in answer.lower(), term
    # forward KL is teacher || student, reverse KL is student || teacher
    assert r"\mathrm{KL}(p_T \,\|\, q_S)" in answer and r"\mathrm{KL}(q_S \,\|\, p_T)" in answer
    urls = _urls(q)
    for arxiv in ("2306.13649", "2306.08543", "1606.07947", "2408.00118"):
        assert any(arxiv in u for u in urls), arxiv


def test_every_new_reference_is_complete(bank):
    for ref in bank.get(QID).references:
        assert ref.title and ref.authors and 1900 < ref.year <= 2026
        assert str(ref.url).startswith("https://")


def test_reverse_kl_item_prefers_the_shapes_its_numbers_say(bank):
    item = find_item(bank.get(QID), "kd-reverse-kl-mode-seeking")
    assert isinstance(item, ChoiceItem)

    def kl(a, b):
        return sum(x * math.log(x / y) for x, y in zip(a, b) if x > 0)

    p, qa, qb = (0.48, 0.04, 0.48), (0.3, 0.4, 0.3), (0.8, 0.1, 0.1)
    assert kl(p, qa) < kl(p, qb)  # forward KL prefers the spread-out student
    assert kl(qb, p) < kl(qa, p)  # reverse KL prefers the one-mode student
    right = next(o.text for o in item.options if o.correct)
    assert "Forward KL" in right and right.index("q_A") < right.index("q_B")
    for value in (kl(p, qa), kl(p, qb), kl(qa, p), kl(qb, p)):
        assert f"{value:.3f}" in item.explanation


def test_logit_cache_item_explains_why_teachers_run_online(bank):
    item = find_item(bank.get(QID), "kd-logit-cache-size")
    assert item.unit == "TB"
    assert item.accepts(1e9 * 128256 * 2 / 1e12)
    assert "top-$k$" in item.explanation


def test_spot_the_bug_line_is_the_softmax_over_the_wrong_axis(bank):
    item = find_item(bank.get(QID), "kd-bug-lm-distill-loss")
    assert "dim=1" in item.lines[item.bug_line - 1]

    torch.manual_seed(0)
    B, L, V, T, alpha = 2, 5, 7, 2.0, 0.5
    s, t = torch.randn(B, L, V, dtype=torch.float64), torch.randn(B, L, V, dtype=torch.float64)
    labels = torch.randint(0, V, (B, L))
    mask = torch.ones(B, L, dtype=torch.float64)
    expected = (alpha * T**2 * F.kl_div(F.log_softmax(s / T, -1).reshape(-1, V), F.softmax(t / T, -1).reshape(-1, V),
                                         reduction="batchmean")
                + (1 - alpha) * F.cross_entropy(s.reshape(-1, V), labels.reshape(-1)))

    fixed = run_snippet(item.code, {item.bug_line: "p_teacher = F.softmax(teacher_logits / T, dim=-1)"})
    assert torch.allclose(fixed["lm_distill_loss"](s, t, labels, mask, T, alpha), expected, atol=1e-9)
    buggy = run_snippet(item.code)
    assert not torch.allclose(buggy["lm_distill_loss"](s, t, labels, mask, T, alpha), expected, atol=1e-3)


def test_no_long_inline_formulas(bank):
    text = re.sub(r"\$\$.+?\$\$", "", bank.get(QID).answer, flags=re.S)
    inline = re.findall(r"\$(.+?)\$", text, flags=re.S)
    assert inline and all(len(f) <= 80 for f in inline), [f for f in inline if len(f) > 80]
