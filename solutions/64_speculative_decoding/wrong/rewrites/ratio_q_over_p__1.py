"""Rewrite of ratio_q_over_p.py: a list of accept flags u <= q/p at the drafted tokens, the ratio upside down."""
# quizgen: question 64

import torch


def residual_distribution(p, q):
    residual = torch.clamp(p - q, min=0)
    mass = residual.sum()
    if mass.item() == 0:
        return p
    return residual / mass


def speculative_verify(p, q, draft, u):
    g = q.shape[0]
    positions = torch.arange(g, device=p.device)
    accept = (u <= q[positions, draft] / p[positions, draft]).tolist()
    n = accept.index(False) if False in accept else g
    if n == g:
        return g, p[g]
    return n, residual_distribution(p[n], q[n])


def expected_tokens_per_step(alpha, g):
    if alpha == 1:
        return float(g + 1)
    return (1 - alpha ** (g + 1)) / (1 - alpha)
