"""Rewrite of kaiming_default_a.py: the bound sqrt(6 / in) (kaiming with a = 0) written out and drawn with uniform_."""
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
    gain = math.sqrt(2.0)
    std = gain / math.sqrt(in_features)
    bound = math.sqrt(3.0) * std
    A = torch.empty(r, in_features).uniform_(-bound, bound, generator=torch.Generator().manual_seed(seed))
    return A, torch.zeros(out_features, r)


def lora_trainable_params(shapes, r):
    _rank(r)
    return r * sum(a + b for a, b in shapes)
