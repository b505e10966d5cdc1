"""Correct: the textbook truncated SVD as numpy.linalg.svd users write it (W_k = U[:, :k] @ diag(s[:k]) @ Vt[:k]),
in torch: a full SVD (full_matrices=True) cut to k, Sigma folded into B = diag(s_k) @ Vt_k instead of A. The
energy rank counts the fractions below energy with an explicit comparison against energy * total."""
# quizgen: question 63

import math

import torch


def low_rank_factorize(W, k):
    m, n = W.shape
    if k < 0 or k > min(m, n):
        raise ValueError("k must satisfy 0 <= k <= min(m, n) = %d, got k=%d" % (min(m, n), k))
    U, s, Vt = torch.linalg.svd(W, full_matrices=True)
    A = U[:, :k].contiguous()
    B = torch.diag(s[:k]) @ Vt[:k, :]
    return A, B


def max_rank_that_saves(m, n):
    if m * n <= m + n:
        return 0
    k = math.ceil(m * n / (m + n)) + 1  # a float guess above the answer, corrected in exact integers
    while k * (m + n) >= m * n:
        k -= 1
    return max(k, 0)


def rank_for_energy(W, energy):
    if not (energy > 0 and energy <= 1):
        raise ValueError(f"energy={energy} is outside (0, 1]")
    s = torch.linalg.svdvals(W.to(torch.float64))
    e = s * s
    total = e.sum()
    k = 1
    running = e[0]
    while k < e.numel() and running < energy * total * (1 - 1e-15):
        running = running + e[k]
        k += 1
    return k
