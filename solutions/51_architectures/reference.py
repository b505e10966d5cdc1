"""Reference kernels for question 51: LLaMA's building blocks (RMSNorm, RoPE, SwiGLU, GQA's repeat_kv).

Conventions follow the contract in `quiz stub 51`:
- rms_norm: x * rsqrt(mean(x**2, -1) + eps) * weight (eps inside the square root, no mean subtraction,
  no bias), as facebookresearch/llama's RMSNorm, computed in x's dtype.
- apply_rope: Meta's interleaved pairing, the pair (2i, 2i+1) rotated by positions[t] * theta**(-2i/D)
  (the complex product (x_2i + i x_2i+1) * e^{i angle}); angles computed in float64, then cast to x's dtype.
- swiglu_ffn: nn.Linear layout [out, in]: (silu(x @ w1.T) * (x @ w3.T)) @ w2.T.
- repeat_kv: repeat_interleave over the head dim, so query head h reads kv head h // n_rep.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def rms_norm(x: Tensor, weight: Tensor, eps: float = 1e-6) -> Tensor:
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight


def apply_rope(x: Tensor, positions: Tensor, theta: float = 10000.0) -> Tensor:
    D = x.shape[-1]
    if D % 2 != 0:
        raise ValueError(f"x's last dim D must be even for RoPE pairs, got D={D}")
    i = torch.arange(D // 2, dtype=torch.float64, device=x.device)
    inv_freq = theta ** (-2.0 * i / D)                                              # [D/2]
    angles = positions.to(device=x.device, dtype=torch.float64)[:, None] * inv_freq  # [T, D/2]
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x0, x1 = x[..., 0::2], x[..., 1::2]                                             # the pairs (2i, 2i+1)
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).flatten(-2)


def swiglu_ffn(x: Tensor, w1: Tensor, w2: Tensor, w3: Tensor) -> Tensor:
    return (F.silu(x @ w1.T) * (x @ w3.T)) @ w2.T


def repeat_kv(kv: Tensor, n_rep: int) -> Tensor:
    if n_rep < 1:
        raise ValueError(f"n_rep must be at least 1, got n_rep={n_rep}")
    return kv.repeat_interleave(n_rep, dim=1)
