"""Known-wrong: applies the temperature to the student only; the teacher's soft targets are at T = 1."""
# quizgen: question 61

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, labels: Tensor,
                      T: float, alpha: float) -> Tensor:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got alpha={alpha}")
    if T <= 0:
        raise ValueError(f"T must be > 0, got T={T}")
    student_log_probs = F.log_softmax(student_logits / T, dim=-1)
    teacher_probs = F.softmax(teacher_logits.detach(), dim=-1)
    soft = F.kl_div(student_log_probs, teacher_probs, reduction="batchmean")
    hard = F.cross_entropy(student_logits, labels)
    return alpha * T * T * soft + (1.0 - alpha) * hard
