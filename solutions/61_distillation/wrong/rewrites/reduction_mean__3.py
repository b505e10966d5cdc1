"""Rewrite of reduction_mean.py: Teacher-free-KD's nn.KLDivLoss() module with its default reduction ('mean')."""
# quizgen: question 61

import torch
from torch import nn
from torch.nn import functional as F


def distillation_loss(student_logits, teacher_logits, labels, T, alpha):
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"bad alpha={alpha}: expected 0 <= alpha <= 1")
    if T <= 0.0:
        raise ValueError(f"bad T={T}: expected T > 0")
    loss_ce = F.cross_entropy(student_logits, labels)
    kl = nn.KLDivLoss(reduction="mean")
    d_kl = kl(F.log_softmax(student_logits / T, dim=1), F.softmax(teacher_logits.detach() / T, dim=1)) * (T * T)
    return (1.0 - alpha) * loss_ce + alpha * d_kl
