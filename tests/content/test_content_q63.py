"""Question 63 (compression): the theorem's parts are credited to the right papers (Eckart & Young 1936:
Frobenius; Mirsky 1960: spectral and every unitarily invariant norm), both have clean reference entries,
the break-even rank is quoted as 2985.22, the "not low-rank" claim is sourced (ASVD, SVD-LLM), the
2025-26 part, the new item kinds, and the spot-the-bug line."""

from __future__ import annotations

import torch
from bank_items import find_item, run_snippet

QID = 63


def test_spectral_norm_optimality_is_credited_to_mirsky_1960(bank):
    q = bank.get(QID)
    answer = q.answer
    assert "Eckart & Young (1936) proved this for the Frobenius" in answer
    assert "Mirsky (1960) extended it to the spectral norm and to every unitarily invariant norm" in answer
    # the old wording credited both norms to Eckart & Young 1936
    assert "(Eckart & Young 1936), the best rank-$k$ approximation in both" not in answer
    pitfall = next(p for p in q.pitfalls if "spectral norm" in p.claim and "Eckart" in p.claim)
    assert "Frobenius" in pitfall.correction and "Mirsky" in pitfall.correction and "1960" in pitfall.correction
    for item_id in ("compress-spectral-error", "compress-eckart-young"):
        item = find_item(q, item_id)
        assert "Mirsky" in item.explanation + getattr(item, "answer", "")


def test_mirsky_reference_has_a_clean_title_and_eckart_young_has_its_own_entry(bank):
    refs = bank.get(QID).references
    mirsky = next(r for r in refs if "Mirsky" in r.authors)
    assert mirsky.title == "Symmetric Gauge Functions and Unitarily Invariant Norms"
    assert mirsky.year == 1960 and str(mirsky.url) == "https://doi.org/10.1093/qmath/11.1.50"
    assert "doi" not in mirsky.title.lower() and "extends" not in mirsky.title.lower()
    eckart = next(r for r in refs if "Eckart" in r.authors)
    assert eckart.title == "The Approximation of One Matrix by Another of Lower Rank"
    assert eckart.year == 1936 and "10.1007/BF02288367" in str(eckart.url) and "Young" in eckart.authors


def test_break_even_rank_is_quoted_as_2985_22(bank):
    item = find_item(bank.get(QID), "compress-max-rank-ffn")
    assert f"{4096 * 11008 / (4096 + 11008):.2f}" == "2985.22"
    assert "2985.22" in item.explanation and "2985.3" not in item.explanation
    assert item.answer == (4096 * 11008 - 1) // (4096 + 11008)


def test_llm_weights_not_low_rank_claim_is_sourced(bank):
    q = bank.get(QID)
    assert "not strongly low-rank" in q.answer
    assert "ASVD" in q.answer and "SVD-LLM" in q.answer
    urls = " ".join(str(r.url) for r in q.references)
    assert "2312.05821" in urls and "2403.07378" in urls


def test_2025_26_part_covers_mla_eviction_activation_aware_svd_and_choice_of_technique(bank):
    q = bank.get(QID)
    answer = q.answer
    assert "2025-26" in answer
    for term in ("MLA", "latent", "93.3%", "H2O", "StreamingLLM", "eviction", "Activation-aware SVD",
                 "Which technique when", "whitening"):
        assert term in answer, term
    urls = " ".join(str(r.url) for r in q.references)
    for arxiv in ("2405.04434", "2306.14048", "2309.17453", "2502.14837"):
        assert arxiv in urls, arxiv


def test_whitening_identity_in_the_answer_holds():
    """||(W - W')X||_F == ||(W - W')S||_F when X X^T = S S^T, the step the answer relies on."""
    torch.manual_seed(0)
    D, X = torch.randn(5, 7, dtype=torch.float64), torch.randn(7, 40, dtype=torch.float64)
    S = torch.linalg.cholesky(X @ X.T)
    assert torch.allclose(torch.linalg.matrix_norm(D @ X), torch.linalg.matrix_norm(D @ S))


def test_spot_the_bug_line_is_the_transposed_vh(bank):
    item = find_item(bank.get(QID), "compress-bug-low-rank")
    assert "Vh[:, :k].T" in item.lines[item.bug_line - 1]
    torch.manual_seed(0)
    W, k = torch.randn(64, 64, dtype=torch.float64), 8
    sigma = torch.linalg.svdvals(W)

    fixed = run_snippet(item.code, {item.bug_line: "B = Vh[:k, :]"})
    A, B = fixed["low_rank"](W, k)
    assert torch.isclose(torch.linalg.matrix_norm(W - A @ B, ord=2), sigma[k])
    buggy = run_snippet(item.code)
    A, B = buggy["low_rank"](W, k)
    assert not torch.isclose(torch.linalg.matrix_norm(W - A @ B, ord=2), sigma[k])
