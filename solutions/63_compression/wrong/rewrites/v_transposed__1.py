"""Rewrite of v_transposed.py: the deprecated torch.svd, whose third result is V (not V^T), sliced by rows as if it were Vh."""
# quizgen: question 63

import torch


def low_rank_factorize(W, k):
    m, n = W.shape
    if not 0 <= k <= min(m, n):
        raise ValueError(f"k={k} must lie in [0, min(m, n)] = [0, {min(m, n)}]")
    U, S, V = torch.svd(W)  # W = U diag(S) V^T
    A = U[:, :k] @ torch.diag(S[:k])
    B = V[:k, :]
    return A, B


def max_rank_that_saves(m, n):
    k = (m * n) // (m + n)
    while k > 0 and k * (m + n) >= m * n:
        k -= 1
    return k


def rank_for_energy(W, energy):
    if not (0.0 < energy <= 1.0):
        raise ValueError(f"energy must be in (0, 1], got energy={energy}")
    s2 = torch.linalg.svdvals(W.double()) ** 2
    total = s2.sum()
    running = 0.0
    for k, value in enumerate(s2.tolist(), start=1):
        running += value
        if running >= energy * float(total):
            return k
    return len(s2)
