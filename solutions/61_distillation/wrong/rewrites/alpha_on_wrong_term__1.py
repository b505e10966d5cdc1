"""Rewrite of alpha_on_wrong_term.py: torch.lerp between the two terms with the weights exchanged."""
# quizgen: question 61

import torch
import torch.nn.functional as F


def distillation_loss(student_logits, teacher_logits, labels, T, alpha):
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got alpha={alpha}")
    if T <= 0:
        raise ValueError(f"T must be > 0, got T={T}")
    soft = F.kl_div(F.log_softmax(student_logits / T, -1), F.softmax(teacher_logits.detach() / T, -1),
                    reduction="batchmean") * T * T
    hard = F.cross_entropy(student_logits, labels)
    return torch.lerp(soft, hard, alpha)  # soft + alpha * (hard - soft) = (1 - alpha) * soft + alpha * hard
