"""Rewrite of k_smallest_singular_values.py: flips the SVD to ascending order and takes the first k triplets."""
# quizgen: question 63

import torch


def low_rank_factorize(W, k):
    m, n = W.shape
    if k < 0 or k > min(m, n):
        raise ValueError(f"k must be in [0, {min(m, n)}], got k={k}")
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    U, S, Vh = U.flip(1), S.flip(0), Vh.flip(0)  # ascending singular values
    A = U[:, :k] * S[:k]
    B = Vh[:k, :]
    return A, B


def max_rank_that_saves(m, n):
    return max(0, (m * n - 1) // (m + n))


def rank_for_energy(W, energy):
    if not 0.0 < energy <= 1.0:
        raise ValueError(f"energy must be in (0, 1], got energy={energy}")
    sigma = torch.linalg.svdvals(W.to(torch.float64))
    cumulative = torch.cumsum(sigma * sigma, dim=0)
    return int((cumulative / cumulative[-1] < energy).sum()) + 1
