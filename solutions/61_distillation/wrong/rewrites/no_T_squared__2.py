"""Rewrite of no_T_squared.py: a loop over the rows with F.kl_div(reduction='sum'), and no T**2."""
# quizgen: question 61

import torch
import torch.nn.functional as F


def distillation_loss(student_logits, teacher_logits, labels, T, alpha):
    if alpha < 0.0 or alpha > 1.0:
        raise ValueError("alpha out of range [0, 1]: alpha=" + str(alpha))
    if T <= 0.0:
        raise ValueError("T must be strictly positive: T=" + str(T))
    N = student_logits.shape[0]
    soft = student_logits.new_zeros(())
    for i in range(N):
        log_q = F.log_softmax(student_logits[i] / T, dim=0)
        p = F.softmax(teacher_logits[i].detach() / T, dim=0)
        soft = soft + F.kl_div(log_q, p, reduction="sum")
    return alpha * soft / N + (1 - alpha) * F.cross_entropy(student_logits, labels)
