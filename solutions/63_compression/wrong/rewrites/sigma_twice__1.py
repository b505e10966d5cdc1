"""Rewrite of sigma_twice.py: diagonal matrices: A = U_k @ diag(sqrt(S_k)) and B = diag(S_k) @ Vh_k."""
# quizgen: question 63

import torch


def low_rank_factorize(W, k):
    m, n = W.shape
    if k < 0 or k > min(m, n):
        raise ValueError(f"k must be between 0 and min(m, n) = {min(m, n)}, got k={k}")
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    A = U[:, :k] @ torch.diag(torch.sqrt(S[:k]))
    B = torch.diag(S[:k]) @ Vh[:k]
    return A, B


def max_rank_that_saves(m, n):
    return max(0, (m * n - 1) // (m + n))


def rank_for_energy(W, energy):
    if not 0.0 < energy <= 1.0:
        raise ValueError(f"energy must be in (0, 1], got energy={energy}")
    e = torch.linalg.svdvals(W.double()).square()
    c = e.cumsum(0)
    return int((c / c[-1] < energy).sum().item()) + 1
