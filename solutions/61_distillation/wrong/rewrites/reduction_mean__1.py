"""Rewrite of reduction_mean.py: mmdetection's kd_loss, reduction='none' then .mean over the classes, then over rows."""
# quizgen: question 61

import torch.nn.functional as F


def distillation_loss(student_logits, teacher_logits, labels, T, alpha):
    if alpha < 0 or alpha > 1:
        raise ValueError("alpha must lie in [0, 1], got %r" % alpha)
    if not T > 0:
        raise ValueError("T must be positive, got %r" % T)
    target = F.softmax(teacher_logits / T, dim=1).detach()
    per_row = F.kl_div(F.log_softmax(student_logits / T, dim=1), target, reduction="none").mean(1) * (T * T)
    return alpha * per_row.mean() + (1 - alpha) * F.cross_entropy(student_logits, labels)
