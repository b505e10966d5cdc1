"""Rewrite of no_T_squared.py: the KL written by hand with logsumexp, still without the T**2 factor."""
# quizgen: question 61

import torch


def distillation_loss(student_logits, teacher_logits, labels, T, alpha):
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got alpha={alpha}")
    if T <= 0:
        raise ValueError(f"T must be > 0, got T={T}")
    s = student_logits / T
    t = teacher_logits.detach() / T
    log_q = s - torch.logsumexp(s, dim=-1, keepdim=True)
    log_p = t - torch.logsumexp(t, dim=-1, keepdim=True)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1).mean()
    log_probs = student_logits - torch.logsumexp(student_logits, dim=-1, keepdim=True)
    ce = -log_probs.gather(1, labels.unsqueeze(1)).squeeze(1).mean()
    return alpha * kl + (1 - alpha) * ce
