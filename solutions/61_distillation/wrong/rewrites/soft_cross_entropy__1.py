"""Rewrite of soft_cross_entropy.py: F.cross_entropy with probability targets (soft labels) for the soft term."""
# quizgen: question 61

import torch
import torch.nn.functional as F


def distillation_loss(student_logits, teacher_logits, labels, T, alpha):
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got alpha={alpha}")
    if T <= 0:
        raise ValueError(f"T must be > 0, got T={T}")
    soft_targets = torch.softmax(teacher_logits.detach() / T, dim=-1)
    soft = F.cross_entropy(student_logits / T, soft_targets)
    hard = F.cross_entropy(student_logits, labels)
    return alpha * T * T * soft + (1.0 - alpha) * hard
