"""Rewrite of sample_from_p_after_reject.py: after the first rejection at n, returns the target row p[n] via index_select."""
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
    ok = (u <= p[positions, draft] / q[positions, draft]).long()
    n = int(torch.cumprod(ok, dim=0).sum())
    row = torch.tensor([n], device=p.device)
    return n, p.index_select(0, row)[0]


def expected_tokens_per_step(alpha, g):
    if alpha == 1:
        return float(g + 1)
    return (1 - alpha ** (g + 1)) / (1 - alpha)
