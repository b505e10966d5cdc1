"""Rewrite of reduction_mean.py: DeiT's soft distillation, reduction='sum' with log_target=True divided by numel()."""
# quizgen: question 61

import torch
import torch.nn.functional as F


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      T: float, alpha: float) -> torch.Tensor:
    if T <= 0:
        raise ValueError(f"temperature T must be > 0 (T={T})")
    if not (0 <= alpha <= 1):
        raise ValueError(f"alpha={alpha} is not in [0, 1]")
    with torch.no_grad():
        teacher_log = F.log_softmax(teacher_logits / T, dim=1)
    kd = F.kl_div(F.log_softmax(student_logits / T, dim=1), teacher_log, reduction="sum",
                  log_target=True) * (T * T) / student_logits.numel()
    base = F.cross_entropy(student_logits, labels)
    return base * (1 - alpha) + kd * alpha
