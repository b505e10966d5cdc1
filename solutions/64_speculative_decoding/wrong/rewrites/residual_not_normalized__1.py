"""Rewrite of residual_not_normalized.py: (p - q).clamp_min(0) returned as it is, its sum below 1."""
# quizgen: question 64

import torch


def residual_distribution(p, q):
    residual = (p - q).clamp_min(0)
    if bool((residual == 0).all()):
        return p
    return residual


def speculative_verify(p, q, draft, u):
    g = q.shape[0]
    rows = torch.arange(g, device=p.device)
    reject = (u > p[rows, draft] / q[rows, draft]).nonzero().flatten().tolist()
    if not reject:
        return g, p[g]
    n = reject[0]
    return n, residual_distribution(p[n], q[n])


def expected_tokens_per_step(alpha, g):
    if alpha == 1:
        return float(g + 1)
    return sum(alpha ** i for i in range(g + 1))
