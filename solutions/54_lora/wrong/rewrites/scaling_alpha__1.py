"""Rewrite of scaling_alpha.py: PEFT-style forward and merge with scaling = lora_alpha."""
# quizgen: question 54

import math

import torch
import torch.nn.functional as F


def _check_rank(r, lora_A=None):
    if r <= 0:
        raise ValueError(f"`r` should be a positive integer value but the value passed is {r}")
    if lora_A is not None and lora_A.shape[0] != r:
        raise ValueError(f"A.shape[0]={lora_A.shape[0]} does not match the adapter rank {r}")


def transpose(weight, fan_in_fan_out):
    return weight.T if fan_in_fan_out else weight


def lora_linear(x, W0, b0, A, B, alpha, r):
    _check_rank(r, A)
    scaling = alpha
    result = F.linear(x, W0, bias=b0)
    return result + F.linear(F.linear(x, A), B) * scaling


def get_delta_weight(A, B, scaling, fan_in_fan_out=False):
    return transpose(B @ A, fan_in_fan_out) * scaling


def merge_lora(W0, A, B, alpha, r):
    _check_rank(r, A)
    return W0 + get_delta_weight(A, B, alpha)


def init_lora(in_features, out_features, r, seed):
    _check_rank(r)
    generator = torch.Generator().manual_seed(seed)
    lora_A = torch.empty(r, in_features)
    lora_B = torch.empty(out_features, r)
    # reset_lora_parameters(init_lora_weights=True): "initialize A the same way as the default for nn.Linear and B to zero"
    torch.nn.init.kaiming_uniform_(lora_A, a=math.sqrt(5), generator=generator)
    torch.nn.init.zeros_(lora_B)
    return lora_A, lora_B


def lora_trainable_params(shapes, r):
    _check_rank(r)
    total = 0
    for out_features, in_features in shapes:
        total += r * in_features  # lora_A.weight
        total += out_features * r  # lora_B.weight
    return int(total)
