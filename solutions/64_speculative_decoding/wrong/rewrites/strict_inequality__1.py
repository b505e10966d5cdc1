"""Rewrite of strict_inequality.py: vLLM-style acceptance uniform < min(1, p/q) with torch.lt, so u equal to the ratio rejects."""
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
    ratio = p[positions, draft] / q[positions, draft]
    accepted = torch.lt(u, torch.clamp(ratio, max=1.0)).tolist()
    n = accepted.index(False) if False in accepted else g
    if n == g:
        return g, p[g]
    return n, residual_distribution(p[n], q[n])


def expected_tokens_per_step(alpha, g):
    if alpha == 1:
        return float(g + 1)
    return (1 - alpha ** (g + 1)) / (1 - alpha)
