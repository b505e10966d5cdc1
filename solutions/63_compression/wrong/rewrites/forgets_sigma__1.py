"""Rewrite of forgets_sigma.py: a full SVD (full_matrices=True) sliced to k, with the singular values left out of both factors."""
# quizgen: question 63

import torch


def low_rank_factorize(W, k):
    rows, cols = W.shape
    if k < 0 or k > min(rows, cols):
        raise ValueError("k out of range [0, min(m, n)]: k=%d" % k)
    U, S, Vh = torch.linalg.svd(W, full_matrices=True)
    return U[:, :k].clone(), Vh[:k].clone()


def max_rank_that_saves(m, n):
    return max(0, (m * n - 1) // (m + n))


def rank_for_energy(W, energy):
    if energy <= 0 or energy > 1:
        raise ValueError("energy must be in (0, 1], got energy=%r" % energy)
    sigma = torch.linalg.svdvals(W.to(torch.float64))
    fraction = torch.cumsum(sigma ** 2, 0)
    fraction = fraction / fraction[-1]
    return int(torch.searchsorted(fraction, torch.tensor([energy], dtype=fraction.dtype)).item()) + 1
