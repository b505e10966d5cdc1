"""Rewrite of rope_negative_angle.py: multiplies by the complex conjugate of freqs_cis (a clockwise turn)."""
# quizgen: question 51

import torch
import torch.nn.functional as F


def rms_norm(x, weight, eps=1e-6):
    def _norm(t):
        return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps)

    return _norm(x) * weight


def precompute_freqs_cis(dim, positions, theta):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64)[: (dim // 2)] / dim))
    t = positions.to(torch.float64).cpu()
    freqs = torch.outer(t, freqs)
    return torch.polar(torch.ones_like(freqs), freqs)  # complex128


def apply_rope(x, positions, theta=10000.0):
    D = x.shape[-1]
    if D % 2 == 1:
        raise ValueError("x: the last dim D must be even, got D=%d" % D)
    complex_dtype = torch.complex128 if x.dtype == torch.float64 else torch.complex64
    freqs_cis = precompute_freqs_cis(D, positions, theta).to(device=x.device, dtype=complex_dtype)
    x_ = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2).contiguous())
    x_out = torch.view_as_real(x_ * freqs_cis.conj()).flatten(-2)
    return x_out.type_as(x)


def swiglu_ffn(x, w1, w2, w3):
    return F.linear(F.silu(F.linear(x, w1)) * F.linear(x, w3), w2)


def repeat_kv(kv, n_rep):
    if n_rep < 1:
        raise ValueError(f"n_rep={n_rep}: must be at least 1")
    x = kv.transpose(1, 2)  # [B, T, Hkv, D], Meta's layout
    bs, slen, n_kv_heads, head_dim = x.shape
    if n_rep == 1:
        return kv
    x = x[:, :, :, None, :].expand(bs, slen, n_kv_heads, n_rep, head_dim).reshape(bs, slen, n_kv_heads * n_rep, head_dim)
    return x.transpose(1, 2)
