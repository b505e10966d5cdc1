"""Reference kernel for question 61: the knowledge-distillation loss of Hinton et al. (2015).

Conventions follow the contract in `quiz stub 61`: the soft term is the true KL
divergence KL(p_teacher || p_student) at temperature T, summed over classes and averaged over the
batch (F.kl_div's "batchmean"), multiplied by T**2; the hard term is the mean cross-entropy of the
student at temperature 1. The teacher is detached. Classes where the teacher's probability is 0
contribute 0 (0 * log 0 = 0, as F.kl_div). Logits [N, C], labels int64 [N]; returns a 0-dim tensor
in the logits' dtype.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, labels: Tensor,
                      T: float, alpha: float) -> Tensor:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got alpha={alpha}")
    if T <= 0:
        raise ValueError(f"T must be > 0, got T={T}")
    student_log_probs = F.log_softmax(student_logits / T, dim=-1)
    teacher_probs = F.softmax(teacher_logits.detach() / T, dim=-1)
    soft = F.kl_div(student_log_probs, teacher_probs, reduction="batchmean")  # sum over classes / N
    hard = F.cross_entropy(student_logits, labels)
    return alpha * T * T * soft + (1.0 - alpha) * hard
