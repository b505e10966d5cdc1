"""Rewrite of energy_float32.py: the singular values of W.to(torch.float32), accumulated in a Python loop."""
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
    squares = [s * s for s in torch.linalg.svdvals(W.to(torch.float32)).tolist()]
    total = sum(squares)
    running = 0.0
    for k, value in enumerate(squares, start=1):
        running += value
        if running >= energy * total:
            return k
    return len(squares)
