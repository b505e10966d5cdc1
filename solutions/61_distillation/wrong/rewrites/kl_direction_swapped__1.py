"""Rewrite of kl_direction_swapped.py: the reverse KL sum q (log q - log p) written by hand."""
# quizgen: question 61

import torch
import torch.nn.functional as F


def distillation_loss(student_logits, teacher_logits, labels, T, alpha):
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got alpha={alpha}")
    if T <= 0:
        raise ValueError(f"T must be > 0, got T={T}")
    log_q = torch.log_softmax(student_logits / T, dim=-1)
    log_p = torch.log_softmax(teacher_logits.detach() / T, dim=-1)
    reverse = (log_q.exp() * (log_q - log_p)).sum(dim=-1).mean()
    return alpha * (T ** 2) * reverse + (1 - alpha) * F.nll_loss(torch.log_softmax(student_logits, -1), labels)
