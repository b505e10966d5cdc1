"""Reference kernels for question 63: low-rank factorization (Eckart-Young-Mirsky).

Conventions follow the contract in `quiz stub 63`. The factors come from the exact
SVD torch.linalg.svd (never the randomized torch.svd_lowrank): A = U_k diag(S_k) [m, k] and
B = Vh_k [k, n], so that A @ B = U_k S_k V_k^T is the best rank-k approximation of W. The factors
keep W's dtype and device; k = 0 gives empty factors of shapes [m, 0] and [0, n].
rank_for_energy measures energy as sigma**2 (the squared Frobenius norm), computed in float64, and
divides the cumulative sums by their own last element so that energy = 1.0 always gives the number
of singular values needed to hold everything (min(m, n) for a full-rank W).
"""

from __future__ import annotations

import torch
from torch import Tensor


def low_rank_factorize(W: Tensor, k: int) -> tuple[Tensor, Tensor]:
    m, n = W.shape
    if k < 0 or k > min(m, n):
        raise ValueError(f"k must be in [0, min(m, n)] = [0, {min(m, n)}] for W of shape [{m}, {n}], got k={k}")
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)  # S descending
    A = U[:, :k] * S[:k]  # scales column j of U_k by sigma_j: U_k diag(S_k)
    B = Vh[:k, :]  # rows of Vh are already V^T: no transpose
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
