"""Rewrite of bonus_from_q.py: when nothing is rejected, the bonus distribution is taken from q[-1], the draft's last row."""
# quizgen: question 64

import torch


def residual_distribution(p, q):
    residual = torch.clamp(p - q, min=0)
    mass = residual.sum()
    if mass.item() == 0:
        return p
    return residual / mass


def speculative_verify(p, q, draft, u):
    for i in range(q.shape[0]):
        if u[i] > p[i, draft[i]] / q[i, draft[i]]:
            return i, residual_distribution(p[i], q[i])
    return q.shape[0], q[-1]


def expected_tokens_per_step(alpha, g):
    if alpha == 1:
        return float(g + 1)
    return (1 - alpha ** (g + 1)) / (1 - alpha)
