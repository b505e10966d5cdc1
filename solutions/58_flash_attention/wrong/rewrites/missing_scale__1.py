"""Rewrite of missing_scale.py: FA-1's key-outer loop with tau = 1."""
# quizgen: question 58

# quizgen: question 58

from __future__ import annotations

import torch
from torch import Tensor


def flash_attention_forward(q: Tensor, k: Tensor, v: Tensor, block_q: int = 64, block_k: int = 64,
                            causal: bool = False) -> tuple[Tensor, Tensor]:
    if block_q < 1:
        raise ValueError(f"block_q={block_q}: block sizes must be >= 1")
    if block_k < 1:
        raise ValueError(f"block_k={block_k}: block sizes must be >= 1")
    B, H, N_q, d = q.shape
    for name, t in (("k", k), ("v", v)):
        if (t.shape[0], t.shape[1], t.shape[3]) != (B, H, d):
            raise ValueError(f"{name}: B, H and D must match q's ({B}, {H}, {d}), got {list(t.shape)}")
    N_k = k.shape[2]
    if causal and N_q > N_k:
        raise ValueError(f"causal attention requires Tq <= Tk, got Tq={N_q}, Tk={N_k}")
    tau = 1.0
    lowest = torch.finfo(q.dtype).min
    O = torch.zeros(B, H, N_q, d, dtype=q.dtype, device=q.device)
    l = torch.zeros(B, H, N_q, dtype=q.dtype, device=q.device)
    m = torch.full((B, H, N_q), lowest, dtype=q.dtype, device=q.device)
    for j0 in range(0, N_k, block_k):
        K_j, V_j = k[:, :, j0:j0 + block_k], v[:, :, j0:j0 + block_k]
        cols = torch.arange(j0, j0 + K_j.shape[2], device=q.device)
        for i0 in range(0, N_q, block_q):
            rows = torch.arange(i0, min(i0 + block_q, N_q), device=q.device)
            if causal and j0 > int(rows[-1]) + (N_k - N_q):
                continue  # every query of this block is before every key of this block
            S_ij = tau * (q[:, :, i0:i0 + block_q] @ K_j.transpose(-1, -2))
            if causal:
                S_ij = S_ij.masked_fill(cols[None, :] > rows[:, None] + (N_k - N_q), lowest)
            m_tilde = S_ij.max(dim=-1).values
            P_tilde = torch.exp(S_ij - m_tilde[..., None])
            if causal:
                P_tilde = P_tilde.masked_fill(cols[None, :] > rows[:, None] + (N_k - N_q), 0.0)
            l_tilde = P_tilde.sum(dim=-1)
            m_i, l_i, O_i = m[:, :, i0:i0 + block_q], l[:, :, i0:i0 + block_q], O[:, :, i0:i0 + block_q]
            m_new = torch.maximum(m_i, m_tilde)
            l_new = torch.exp(m_i - m_new) * l_i + torch.exp(m_tilde - m_new) * l_tilde
            safe = torch.where(l_new > 0, l_new, torch.ones_like(l_new))
            O_new = ((l_i * torch.exp(m_i - m_new))[..., None] * O_i
                     + torch.exp(m_tilde - m_new)[..., None] * (P_tilde @ V_j)) / safe[..., None]
            O[:, :, i0:i0 + block_q] = O_new
            l[:, :, i0:i0 + block_q] = l_new
            m[:, :, i0:i0 + block_q] = m_new
    return O, m + torch.log(l)
