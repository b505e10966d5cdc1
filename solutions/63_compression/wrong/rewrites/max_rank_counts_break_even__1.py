"""Rewrite of max_rank_counts_break_even.py: a loop that keeps growing k while k * (m + n) <= m * n."""
# quizgen: question 63

import torch


def low_rank_factorize(W, k):
    m, n = W.shape
    if k < 0 or k > min(m, n):
        raise ValueError(f"k must be in [0, min(m, n)] = [0, {min(m, n)}], got k={k}")
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    return U[:, :k] * S[:k], Vh[:k, :]


def max_rank_that_saves(m, n):
    lo, hi = 0, min(m, n)
    while lo < hi:  # the largest k with k * (m + n) <= m * n
        mid = (lo + hi + 1) // 2
        if mid * (m + n) <= m * n:
            lo = mid
        else:
            hi = mid - 1
    return lo


def rank_for_energy(W, energy):
    if not 0.0 < energy <= 1.0:
        raise ValueError(f"energy must be in (0, 1], got energy={energy}")
    sigma = torch.linalg.svdvals(W.to(torch.float64))
    cumulative = torch.cumsum(sigma * sigma, dim=0)
    return int((cumulative / cumulative[-1] < energy).sum().item()) + 1
