"""Correct: Hinton et al. (2015) written from the definition, row by row: KL(p || q) = sum xlogy(p, p) - p log q
with torch.special.xlogy (0 log 0 = 0, as torch.distributions' categorical KL), log q from logsumexp, the
cross-entropy as minus the gathered log-probability, averaged over the rows at the end."""
# quizgen: question 61

import math

import torch


def distillation_loss(student_logits, teacher_logits, labels, T, alpha):
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got alpha={alpha}")
    if T <= 0:
        raise ValueError(f"T must be > 0, got T={T}")
    teacher = teacher_logits.detach()
    rows = []
    for n in range(student_logits.shape[0]):
        s, t = student_logits[n] / T, teacher[n] / T
        log_q = s - torch.logsumexp(s, dim=0)
        p = torch.exp(t - torch.logsumexp(t, dim=0))
        kl = (torch.special.xlogy(p, p) - p * log_q).sum()
        raw = student_logits[n]
        ce = torch.logsumexp(raw, dim=0) - raw[labels[n]]
        rows.append(alpha * (T * T) * kl + (1 - alpha) * ce)
    return torch.stack(rows).sum() / len(rows)
