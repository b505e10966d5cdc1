"""Known-wrong: low_rank_factorize uses the randomized torch.svd_lowrank(W, q=k), an approximation, not the exact SVD."""
# quizgen: question 63

from __future__ import annotations

import torch
from torch import Tensor


def low_rank_factorize(W: Tensor, k: int) -> tuple[Tensor, Tensor]:
    m, n = W.shape
    if k < 0 or k > min(m, n):
        raise ValueError(f"k must be in [0, min(m, n)] = [0, {min(m, n)}] for W of shape [{m}, {n}], got k={k}")
    if k == 0:
        return W.new_zeros(m, 0), W.new_zeros(0, n)
    U, S, V = torch.svd_lowrank(W, q=k)
    A = U * S
    B = V.T
    return A, B


def max_rank_that_saves(m: int, n: int) -> int:
    # largest k with k * (m + n) < m * n, i.e. k * (m + n) <= m * n - 1; integer arithmetic only
    return max(0, (m * n - 1) // (m + n))


def rank_for_energy(W: Tensor, energy: float) -> int:
    if not 0.0 < energy <= 1.0:
        raise ValueError(f"energy must be in (0, 1], got energy={energy}")
    sigma = torch.linalg.svdvals(W.to(torch.float64))
    cumulative = torch.cumsum(sigma * sigma, dim=0)
    fraction = cumulative / cumulative[-1]
    # fraction is non-decreasing and ends at exactly 1.0: count the k's that fall short, the answer is the next one
    return int((fraction < energy).sum().item()) + 1
