"""Rewrite of accept_iff_p_ge_q.py: a Python loop that keeps a draft while the target is at least as likely as the draft there."""
# quizgen: question 64

import torch


def residual_distribution(p, q):
    r = (p - q).clamp(min=0)
    total = float(r.sum())
    return p if total == 0 else r / r.sum()


def speculative_verify(p, q, draft, u):
    g = q.shape[0]
    n = 0
    for i in range(g):
        x = int(draft[i])
        if float(p[i, x]) >= float(q[i, x]):
            n += 1
        else:
            break
    if n == g:
        return g, p[g]
    return n, residual_distribution(p[n], q[n])


def expected_tokens_per_step(alpha, g):
    if alpha == 1:
        return float(g + 1)
    return (1 - alpha ** (g + 1)) / (1 - alpha)
