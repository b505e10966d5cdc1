"""Correct: adapted from HF transformers' modeling_llama (LlamaRMSNorm, LlamaRotaryEmbedding + rotate_half, repeat_kv, LlamaMLP).

HF's RoPE pairs element i with i + D/2 (rotate_half); its checkpoint converter permutes the q/k weights
so that this equals Meta's interleaved pairing. Here the permutation is applied to x itself: the even
elements become the first half and the odd ones the second, rotate_half runs, and the halves are
interleaved back. RMSNorm keeps x's dtype (HF upcasts to float32, which the contract forbids for
float64), and inv_freq is computed in float64.
"""
# quizgen: question 51

import torch
import torch.nn.functional as F


def rms_norm(x, weight, eps=1e-6):
    variance = x.pow(2).mean(-1, keepdim=True)
    hidden_states = x * torch.rsqrt(variance + eps)
    return weight * hidden_states


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, positions, theta=10000.0):
    dim = x.shape[-1]
    if dim % 2:
        raise ValueError(f"apply_rope needs an even head dim D, got D={dim}")
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64, device=x.device).double() / dim))
    freqs = positions.to(x.device).double()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
    half_split = torch.cat((x[..., 0::2], x[..., 1::2]), dim=-1)  # Meta's pairs -> HF's halves
    rotated = half_split * cos + rotate_half(half_split) * sin
    first, second = rotated[..., : dim // 2], rotated[..., dim // 2:]
    return torch.stack((first, second), dim=-1).reshape(x.shape)


def swiglu_ffn(x, w1, w2, w3):
    gate_proj = F.linear(x, w1)
    up_proj = F.linear(x, w3)
    return F.linear(F.silu(gate_proj) * up_proj, w2)


def repeat_kv(kv, n_rep):
    if n_rep < 1:
        raise ValueError(f"n_rep must be >= 1 (got {n_rep})")
    batch, num_key_value_heads, slen, head_dim = kv.shape
    if n_rep == 1:
        return kv
    hidden_states = kv[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)
