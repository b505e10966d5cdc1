"""Correct: adapted from PEFT's PiSSA initialisation (peft/tuners/lora/layer.py, pissa_init: V, S, Uh = svd(W);
lora_A = diag(sqrt(S_r)) @ Uh_r, lora_B = V_r @ diag(sqrt(S_r)); here with scaling 1, so A = lora_B and
B = lora_A). A wide W is factorized through its transpose (the SVD of W^T, factors swapped back). The error
message names W, which the contract allows (the condition involves k and W's shape). The saving rank is a
binary search, the energy rank a loop in Python floats over float64 singular values."""
# quizgen: question 63

import torch


def low_rank_factorize(W, k):
    m, n = W.shape
    if k < 0 or k > min(m, n):
        raise ValueError(f"W of shape {tuple(W.shape)} has rank at most {min(m, n)}; cannot keep {k} components")
    if m < n:
        A_t, B_t = low_rank_factorize(W.T, k)  # W^T ~ A_t @ B_t  =>  W ~ B_t^T @ A_t^T
        return B_t.T, A_t.T
    V, S, Uh = torch.linalg.svd(W, full_matrices=False)
    Vr, Sr, Uhr = V[:, :k], S[:k], Uh[:k]
    lora_A = torch.diag(torch.sqrt(Sr)) @ Uhr
    lora_B = Vr @ torch.diag(torch.sqrt(Sr))
    return lora_B, lora_A


def max_rank_that_saves(m, n):
    lo, hi = 0, min(m, n)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid * (m + n) < m * n:
            lo = mid
        else:
            hi = mid - 1
    return lo


def rank_for_energy(W, energy):
    if energy <= 0.0 or energy > 1.0:
        raise ValueError("energy must be in (0, 1], got energy=%r" % (energy,))
    squares = [s * s for s in torch.linalg.svdvals(W.double()).tolist()]
    total = sum(squares)
    running = 0.0
    for k, value in enumerate(squares, start=1):
        running += value
        if running >= energy * total:
            return k
    return len(squares)
