"""Rewrite of lse_base_2.py: the Triton-style kernel converts its natural-log lse to base 2 (times log2(e)) before returning it."""
# quizgen: question 58

# quizgen: question 58

from __future__ import annotations

import math

import torch
from torch import Tensor

NEG_INF = float("-inf")


def flash_attention_forward(q: Tensor, k: Tensor, v: Tensor, block_q: int = 64, block_k: int = 64,
                            causal: bool = False) -> tuple[Tensor, Tensor]:
    if block_q < 1 or block_k < 1:
        name = "block_q" if block_q < 1 else "block_k"
        raise ValueError(f"{name} must be a positive tile size, got block_q={block_q}, block_k={block_k}")
    batch, nheads, seqlen_q, d = q.shape
    seqlen_k = k.shape[2]
    if k.shape[0] != batch or k.shape[1] != nheads or k.shape[3] != d:
        raise ValueError(f"k has shape {tuple(k.shape)}, incompatible with q {tuple(q.shape)} (B, H, D)")
    if v.shape[0] != batch or v.shape[1] != nheads or v.shape[3] != d:
        raise ValueError(f"v has shape {tuple(v.shape)}, incompatible with q {tuple(q.shape)} (B, H, D)")
    if causal and seqlen_q > seqlen_k:
        raise ValueError(f"causal=True needs seqlen_q <= seqlen_k (Tq={seqlen_q}, Tk={seqlen_k})")
    softmax_scale = 1.0 / math.sqrt(d)
    offset = seqlen_k - seqlen_q
    out = q.new_empty(batch, nheads, seqlen_q, d)
    lse = q.new_empty(batch, nheads, seqlen_q)
    for start_m in range(0, seqlen_q, block_q):
        offs_m = torch.arange(start_m, min(start_m + block_q, seqlen_q), device=q.device)
        q_blk = q[:, :, start_m:start_m + block_q]
        m_i = q.new_full((batch, nheads, len(offs_m)), NEG_INF)
        lse_i = q.new_full((batch, nheads, len(offs_m)), NEG_INF)
        acc_o = q.new_zeros(batch, nheads, len(offs_m), d)
        end_n = min(seqlen_k, int(offs_m[-1]) + 1 + offset) if causal else seqlen_k
        for start_n in range(0, end_n, block_k):
            offs_n = torch.arange(start_n, min(start_n + block_k, seqlen_k), device=q.device)
            qk = torch.matmul(q_blk, k[:, :, start_n:start_n + block_k].transpose(-2, -1))
            if causal:
                qk = qk.masked_fill(offs_n[None, :] > offs_m[:, None] + offset, NEG_INF)
            m_ij = torch.maximum(qk.amax(-1) * softmax_scale, lse_i)
            m_ij_safe = torch.where(torch.isinf(m_ij), torch.zeros_like(m_ij), m_ij)
            p = torch.exp(qk * softmax_scale - m_ij_safe[..., None])
            l_ij = p.sum(-1)
            acc_o_scale = torch.exp(m_i - m_ij_safe)
            acc_o = acc_o * acc_o_scale[..., None] + torch.matmul(p, v[:, :, start_n:start_n + block_k])
            m_i = m_ij
            l_i_new = torch.exp(lse_i - m_ij_safe) + l_ij
            lse_i = m_ij_safe + torch.log(l_i_new)
        o_scale = torch.exp(m_i - lse_i)
        out[:, :, start_m:start_m + block_q] = acc_o * o_scale[..., None]
        lse[:, :, start_m:start_m + block_q] = lse_i * math.log2(math.e)
    return out, lse
