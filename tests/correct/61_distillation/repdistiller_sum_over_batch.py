"""Correct: adapted from RepDistiller's DistillKL (HobbitLong/RepDistiller, distiller_zoo/KD.py):
F.kl_div(log_softmax(y_s / T), softmax(y_t / T), reduction="sum") * T**2 / batch size, here with the teacher
given as log-probabilities (log_target=True, as DeiT does) and the hard term as F.nll_loss of log_softmax."""
# quizgen: question 61

import torch
import torch.nn.functional as F


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      T: float, alpha: float) -> torch.Tensor:
    if T <= 0:
        raise ValueError("T must be > 0, got T=%s" % T)
    if alpha < 0 or alpha > 1:
        raise ValueError("alpha must be within [0, 1], got alpha=%s" % alpha)
    p_s = F.log_softmax(student_logits / T, dim=1)
    log_p_t = F.log_softmax(teacher_logits.detach() / T, dim=1)
    loss_kd = F.kl_div(p_s, log_p_t, reduction="sum", log_target=True) * (T ** 2) / student_logits.shape[0]
    loss_ce = F.nll_loss(F.log_softmax(student_logits, dim=1), labels)
    return loss_kd * alpha + loss_ce * (1 - alpha)
