"""Rewrite of counts_all_accepted.py: n = (u <= p/q).sum(), vectorized, counting accepted drafts after a rejection too."""
# quizgen: question 64

import torch


def residual_distribution(p, q):
    residual = torch.relu(p - q)
    mass = residual.sum()
    return p if mass.item() == 0 else residual / mass


def speculative_verify(p, q, draft, u):
    g = draft.numel()
    idx = torch.arange(g, device=p.device)
    accepted = u <= p[idx, draft] / q[idx, draft]
    n = int(accepted.sum().item())
    return (g, p[g]) if n == g else (n, residual_distribution(p[n], q[n]))


def expected_tokens_per_step(alpha, g):
    return float(g + 1) if alpha == 1 else (1 - alpha ** (g + 1)) / (1 - alpha)
