"""Rewrite of scaling_r_over_alpha.py: loralib-style forward and merge with scaling = r / lora_alpha."""
# quizgen: question 54

import math

import torch
import torch.nn.functional as F
from torch import nn


def _scaling(lora_alpha, r, lora_A=None):
    if not r > 0:
        raise ValueError("LoRA rank r must be > 0, got r=%r" % (r,))
    if lora_A is not None and lora_A.size(0) != r:
        raise ValueError("r=%d but lora_A has %d rows" % (r, lora_A.size(0)))
    return r / lora_alpha


def lora_linear(x, W0, b0, A, B, alpha, r):
    scaling = _scaling(alpha, r, A)
    result = F.linear(x, W0, bias=b0)
    result = result + (x @ A.transpose(0, 1) @ B.transpose(0, 1)) * scaling
    return result


def merge_lora(W0, A, B, alpha, r):
    scaling = _scaling(alpha, r, A)
    weight = W0.clone()
    weight += (B @ A) * scaling
    return weight


def init_lora(in_features, out_features, r, seed):
    _scaling(1.0, r)
    g = torch.Generator()
    g.manual_seed(seed)
    lora_A = nn.Parameter(torch.zeros((r, in_features)))
    lora_B = nn.Parameter(torch.zeros((out_features, r)))
    with torch.no_grad():
        # initialize A the same way as the default for nn.Linear and B to zero
        nn.init.kaiming_uniform_(lora_A, a=math.sqrt(5), generator=g)
        nn.init.zeros_(lora_B)
    return lora_A.detach().clone(), lora_B.detach().clone()


def lora_trainable_params(shapes, r):
    _scaling(1.0, r)
    return sum(torch.zeros(r, i).numel() + torch.zeros(o, r).numel() for o, i in shapes)
