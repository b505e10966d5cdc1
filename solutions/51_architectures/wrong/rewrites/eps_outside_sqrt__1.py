"""Rewrite of eps_outside_sqrt.py: the RMS as x.norm(dim=-1) / sqrt(d), with eps added to it after the square root."""
# quizgen: question 51

import math

import torch


def rms_norm(x, weight, eps: float = 1e-6):
    rms = x.norm(dim=-1, keepdim=True) / math.sqrt(x.shape[-1])
    return x / (rms + eps) * weight


def apply_rope(x, positions, theta: float = 10000.0):
    dim = x.shape[-1]
    if dim % 2 != 0:
        raise ValueError(f"apply_rope: D={dim} is odd; RoPE rotates pairs")
    pos = positions.to(device=x.device, dtype=torch.float64)
    out = torch.empty_like(x, memory_format=torch.contiguous_format)
    for i in range(dim // 2):
        angle = pos * math.pow(theta, -2.0 * i / dim)
        c, s = torch.cos(angle).to(x.dtype), torch.sin(angle).to(x.dtype)
        a, b = x[..., 2 * i], x[..., 2 * i + 1]
        out[..., 2 * i] = a * c - b * s
        out[..., 2 * i + 1] = a * s + b * c
    return out


def swiglu_ffn(x, w1, w2, w3):
    gate = torch.einsum("...d,hd->...h", x, w1)
    up = torch.einsum("...d,hd->...h", x, w3)
    return torch.einsum("...h,dh->...d", gate * torch.sigmoid(gate) * up, w2)


def repeat_kv(kv, n_rep: int):
    if n_rep < 1:
        raise ValueError(f"n_rep must be a positive integer, got {n_rep!r}")
    heads = torch.arange(kv.shape[1] * n_rep, device=kv.device) // n_rep
    return kv.index_select(1, heads)
