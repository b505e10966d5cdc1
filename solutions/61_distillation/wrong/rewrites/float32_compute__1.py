"""Rewrite of float32_compute.py: hand-written with logsumexp, the logits cast with .to(torch.float32) and the result cast back."""
# quizgen: question 61

import torch


def distillation_loss(student_logits, teacher_logits, labels, T, alpha):
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got alpha={alpha}")
    if T <= 0:
        raise ValueError(f"T must be > 0, got T={T}")
    out_dtype = student_logits.dtype
    s = student_logits.to(torch.float32)
    t = teacher_logits.detach().to(torch.float32)
    log_q = torch.log_softmax(s / T, -1)
    log_p = torch.log_softmax(t / T, -1)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1).mean()
    ce = -torch.log_softmax(s, -1)[torch.arange(s.shape[0], device=s.device), labels].mean()
    return (alpha * T * T * kl + (1 - alpha) * ce).to(out_dtype)
