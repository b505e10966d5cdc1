"""Validate the reference of question 63 (low-rank factorization) against independent peers.

Peers: numpy.linalg.svd (a LAPACK path independent of torch) for the truncated SVD, torch.linalg.svdvals
and matrix_norm for the Eckart-Young-Mirsky errors, and a brute-force search for the break-even rank.
Never torch.svd_lowrank: it is randomized, not an exact peer.
"""

from __future__ import annotations

import math

import pytest
import torch

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(63)).load_reference()


def _matrix(gen, m, n):
    r = min(m, n)
    s = torch.flip(torch.cumsum(0.5 + torch.rand(r, generator=gen, dtype=torch.float64), 0), [0]) + 0.5
    u, _ = torch.linalg.qr(torch.randn(m, r, generator=gen, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(n, r, generator=gen, dtype=torch.float64))
    return (u * s) @ v.T, s


SHAPES = [(6, 6), (9, 5), (5, 11), (17, 17), (1, 7), (30, 12)]


@pytest.mark.parametrize("m,n", SHAPES)
def test_low_rank_product_matches_numpy_truncated_svd(ref, m, n):
    np = pytest.importorskip("numpy")
    gen = torch.Generator().manual_seed(m * 100 + n)
    W, _ = _matrix(gen, m, n)
    u, s, vh = np.linalg.svd(W.numpy(), full_matrices=False)
    for k in range(min(m, n) + 1):
        A, B = ref.low_rank_factorize(W, k)
        assert A.shape == (m, k) and B.shape == (k, n) and A.dtype == B.dtype == torch.float64
        best = torch.from_numpy((u[:, :k] * s[:k]) @ vh[:k, :])
        torch.testing.assert_close(A @ B, best, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("m,n", SHAPES)
def test_low_rank_errors_are_the_eckart_young_mirsky_tails(ref, m, n):
    gen = torch.Generator().manual_seed(7 + m * n)
    W, s = _matrix(gen, m, n)
    for k in range(min(m, n) + 1):
        A, B = ref.low_rank_factorize(W, k)
        residual = W - A @ B
        frobenius = float(torch.linalg.matrix_norm(residual))
        spectral = float(torch.linalg.matrix_norm(residual, ord=2))
        assert math.isclose(frobenius, math.sqrt(float((s[k:] ** 2).sum())), rel_tol=1e-9, abs_tol=1e-10)
        assert math.isclose(spectral, float(s[k]) if k < len(s) else 0.0, rel_tol=1e-9, abs_tol=1e-10)


def test_low_rank_factorization_beats_perturbed_rank_k_factors(ref):
    gen = torch.Generator().manual_seed(3)
    W, _ = _matrix(gen, 10, 8)
    for k in (1, 3, 6):
        A, B = ref.low_rank_factorize(W, k)
        best = float(torch.linalg.matrix_norm(W - A @ B))
        for _ in range(20):
            dA = 1e-3 * torch.randn(A.shape, generator=gen, dtype=torch.float64)
            dB = 1e-3 * torch.randn(B.shape, generator=gen, dtype=torch.float64)
            assert float(torch.linalg.matrix_norm(W - (A + dA) @ (B + dB))) > best


def test_low_rank_keeps_float32_and_accepts_k_zero(ref):
    W = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    A, B = ref.low_rank_factorize(W, 0)
    assert A.shape == (5, 0) and B.shape == (0, 3) and A.dtype == B.dtype == torch.float32
    A, B = ref.low_rank_factorize(W, 3)
    torch.testing.assert_close(A @ B, W, rtol=1e-5, atol=1e-5)
    for bad in (-1, 4):
        with pytest.raises(ValueError, match=r"\bk\b"):
            ref.low_rank_factorize(W, bad)


def _brute_force_saving_rank(m, n):
    k = 0
    while (k + 1) * (m + n) < m * n:
        k += 1
    return k


def test_max_rank_that_saves_matches_brute_force_search(ref):
    for m in range(1, 41):
        for n in range(1, 41):
            got = ref.max_rank_that_saves(m, n)
            assert type(got) is int and got == _brute_force_saving_rank(m, n), (m, n)


def test_max_rank_that_saves_square_4096_is_2047_and_stays_exact_for_huge_sizes(ref):
    assert ref.max_rank_that_saves(4096, 4096) == 2047
    m = 10**6
    n = m * m - m + 1  # m * n = 1 (mod m + n)
    k = ref.max_rank_that_saves(m, n)
    assert k * (m + n) < m * n <= (k + 1) * (m + n)


def test_rank_for_energy_matches_cumulative_energy_of_numpy_svdvals(ref):
    np = pytest.importorskip("numpy")
    gen = torch.Generator().manual_seed(11)
    for m, n in SHAPES:
        W, _ = _matrix(gen, m, n)
        s = np.linalg.svd(W.numpy(), compute_uv=False)
        fraction = np.cumsum(s**2) / np.sum(s**2)
        for energy in (1e-12, 0.1, 0.5, 0.9, 0.99, 0.999999, 1.0):
            boundary = np.abs(fraction - energy).min()
            if 0 < boundary < 1e-9:
                continue  # too close to a boundary to be a fair comparison
            expected = min(int(np.searchsorted(fraction, energy - 1e-15)) + 1, min(m, n))
            got = ref.rank_for_energy(W, energy)
            assert type(got) is int and got == expected, (m, n, energy)


def test_rank_for_energy_counts_squared_singular_values_and_rejects_bad_energy(ref):
    u = torch.tensor([[0.6, -0.8], [0.8, 0.6]], dtype=torch.float64)
    W = (u * torch.tensor([3.0, 1.0], dtype=torch.float64)) @ torch.eye(2, dtype=torch.float64)
    assert ref.rank_for_energy(W, 0.85) == 1  # 9/10 of the energy is in sigma_1 (3/4 of sum(sigma))
    assert ref.rank_for_energy(W, 0.95) == 2
    assert ref.rank_for_energy(W, 1.0) == 2
    for bad in (0.0, -1.0, 1.01):
        with pytest.raises(ValueError, match="energy"):
            ref.rank_for_energy(W, bad)
