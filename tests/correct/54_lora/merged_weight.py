"""Correct: the merged-weight formulation (LoRA paper section 4.1, "W = W0 + BA"), with the kaiming bound written out as torch.nn.init computes it.

lora_linear merges first and runs one F.linear, which is the same function of x, A and B (gradients
reach all three through the merge). init_lora computes kaiming_uniform_'s bound with a = sqrt(5)
exactly as torch.nn.init does (gain = sqrt(2 / (1 + a^2)), bound = sqrt(3) * gain / sqrt(fan_in)) and
draws uniform_(-bound, bound) from the seeded generator: the same numbers, bit for bit.
"""
# quizgen: question 54

import math

import torch


def _rank(r, A=None):
    if r < 1:
        raise ValueError(f"rank r={r} is < 1")
    if A is not None and r != A.shape[0]:
        raise ValueError(f"rank r={r} != A.shape[0]={A.shape[0]}")


def merge_lora(W0, A, B, alpha, r):
    _rank(r, A)
    return torch.addmm(W0, B, A, alpha=alpha / r)


def lora_linear(x, W0, b0, A, B, alpha, r):
    return torch.nn.functional.linear(x, merge_lora(W0, A, B, alpha, r), b0)


def init_lora(in_features, out_features, r, seed):
    _rank(r)
    a = math.sqrt(5)
    gain = math.sqrt(2.0 / (1 + a ** 2))
    std = gain / math.sqrt(in_features)
    bound = math.sqrt(3.0) * std
    A = torch.empty(r, in_features).uniform_(-bound, bound, generator=torch.Generator().manual_seed(seed))
    return A, torch.zeros(out_features, r)


def lora_trainable_params(shapes, r):
    _rank(r)
    return r * sum(a + b for a, b in shapes)
