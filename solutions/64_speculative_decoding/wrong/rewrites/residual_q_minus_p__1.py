"""Rewrite of residual_q_minus_p.py: torch.relu(q - p) normalized, the draft's excess instead of the target's."""
# quizgen: question 64

import torch


def residual_distribution(p, q):
    excess = torch.relu(q - p)
    total = excess.sum()
    if total.item() == 0:
        return p
    return excess / total


def speculative_verify(p, q, draft, u):
    g = q.shape[0]
    for i in range(g):
        t = int(draft[i])
        if not bool(u[i] <= p[i, t] / q[i, t]):
            return i, residual_distribution(p[i], q[i])
    return g, p[g]


def expected_tokens_per_step(alpha, g):
    if alpha == 1:
        return float(g + 1)
    return (1 - alpha ** (g + 1)) / (1 - alpha)
