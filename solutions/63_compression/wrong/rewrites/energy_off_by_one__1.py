"""Rewrite of energy_off_by_one.py: returns the 0-based index from torch.searchsorted (k - 1) without adding 1."""
# quizgen: question 63

import torch


def low_rank_factorize(W, k):
    m, n = W.shape
    if k < 0 or k > min(m, n):
        raise ValueError(f"k must be in [0, min(m, n)] = [0, {min(m, n)}], got k={k}")
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    return U[:, :k] * S[:k], Vh[:k, :]


def max_rank_that_saves(m, n):
    return max(0, (m * n - 1) // (m + n))


def rank_for_energy(W, energy):
    if not 0.0 < energy <= 1.0:
        raise ValueError(f"energy must be in (0, 1], got energy={energy}")
    sigma = torch.linalg.svdvals(W.to(torch.float64))
    cumulative = torch.cumsum(sigma * sigma, dim=0)
    fraction = cumulative / cumulative[-1]
    return int(torch.searchsorted(fraction, torch.tensor(energy, dtype=torch.float64).reshape(1))[0])
