"""Known-wrong: picks each label's logit with student_logits.view(-1)[n * C + label], which raises for a non-contiguous input."""
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
    N, C = student_logits.shape
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=-1), F.softmax(teacher_logits.detach() / T, dim=-1),
                    reduction="batchmean")
    picked = student_logits.view(-1)[torch.arange(N, device=labels.device) * C + labels]
    hard = (torch.logsumexp(student_logits, dim=-1) - picked).mean()
    return alpha * T * T * soft + (1.0 - alpha) * hard
