"""Correct: adapted from Hugging Face's knowledge-distillation guide (transformers docs, "Knowledge Distillation
for Computer Vision"): an nn.KLDivLoss(reduction="batchmean") module on log_softmax(student / T) and
softmax(teacher / T), times T**2, with the teacher under torch.no_grad() and nn.CrossEntropyLoss as the hard term."""
# quizgen: question 61

import torch
from torch import nn
from torch.nn import functional as F


def distillation_loss(student_logits, teacher_logits, labels, T, alpha):
    if not (0 <= alpha <= 1):
        raise ValueError(f"alpha (lambda_param) must be in [0, 1], got alpha={alpha}")
    if not T > 0:
        raise ValueError(f"temperature T must be positive, got T={T}")
    loss_function = nn.KLDivLoss(reduction="batchmean")
    with torch.no_grad():
        soft_teacher = F.softmax(teacher_logits / T, dim=-1)
    soft_student = F.log_softmax(student_logits / T, dim=-1)
    distillation = loss_function(soft_student, soft_teacher) * (T ** 2)
    student_target_loss = nn.CrossEntropyLoss()(student_logits, labels)
    return (1.0 - alpha) * student_target_loss + alpha * distillation
