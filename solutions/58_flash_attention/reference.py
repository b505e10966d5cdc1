"""Reference kernel for question 58: FlashAttention's forward pass, tiled, with the online softmax.

Conventions follow the contract in `quiz stub 58` (FlashAttention-2's recurrence):
- scale 1/sqrt(D); returns (out [B, H, Tq, D], lse [B, H, Tq]) with lse = logsumexp of the scaled, masked
  scores, both in q's dtype;
- causal aligns bottom-right as flash-attn >= 2.1: query i sees keys j <= i + Tk - Tq (Tq <= Tk);
- the outer loop runs over query blocks, the inner loop over ALL key/value blocks (skipping those wholly
  in the causal future), keeping per query row a running max m, a running sum l and an unnormalized
  accumulator; the largest score tile is [B, H, block_q, block_k], never [Tq, Tk];
- rows whose running max is still -inf are guarded, so fully masked tiles never produce NaN.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _check(q: Tensor, k: Tensor, v: Tensor, block_q: int, block_k: int, causal: bool) -> None:
    if block_q < 1:
        raise ValueError(f"block_q must be at least 1, got block_q={block_q}")
    if block_k < 1:
        raise ValueError(f"block_k must be at least 1, got block_k={block_k}")
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        raise ValueError(f"q, k and v must be [B, H, T, D]; got q {list(q.shape)}, k {list(k.shape)}, v {list(v.shape)}")
    B, H, _, D = q.shape
    for name, t in (("k", k), ("v", v)):
        if t.shape[0] != B or t.shape[1] != H or t.shape[3] != D:
            raise ValueError(f"{name} {list(t.shape)} does not match q {list(q.shape)} in B, H or D")
    if k.shape[2] != v.shape[2]:
        raise ValueError(f"k and v must have the same length Tk, got k {list(k.shape)} and v {list(v.shape)}")
    if causal and q.shape[2] > k.shape[2]:
        raise ValueError(f"causal attention needs Tq <= Tk, got Tq={q.shape[2]} > Tk={k.shape[2]} (causal=True)")


def flash_attention_forward(q: Tensor, k: Tensor, v: Tensor, block_q: int = 64, block_k: int = 64,
                            causal: bool = False) -> tuple[Tensor, Tensor]:
    _check(q, k, v, block_q, block_k, causal)
    B, H, Tq, D = q.shape
    Tk = k.shape[2]
    scale = 1.0 / math.sqrt(D)
    shift = Tk - Tq                                   # bottom-right alignment: query i sees keys j <= i + shift
    out = torch.empty_like(q)
    lse = torch.empty(B, H, Tq, dtype=q.dtype, device=q.device)
    k_t = k.transpose(-1, -2)                         # [B, H, D, Tk], a view
    for qs in range(0, Tq, block_q):
        qe = min(qs + block_q, Tq)
        q_blk = q[:, :, qs:qe] * scale
        m = torch.full((B, H, qe - qs), float("-inf"), dtype=q.dtype, device=q.device)
        l = torch.zeros(B, H, qe - qs, dtype=q.dtype, device=q.device)
        acc = torch.zeros(B, H, qe - qs, D, dtype=q.dtype, device=q.device)
        # Causal: keys j > (qe - 1) + shift are masked for every row of this block, so stop there.
        k_stop = min(Tk, qe + shift) if causal else Tk
        for ks in range(0, k_stop, block_k):
            ke = min(ks + block_k, Tk)
            s = q_blk @ k_t[..., ks:ke]                                      # [B, H, bq, bk] scaled scores
            if causal and ke - 1 > qs + shift:                               # the tile crosses the diagonal
                i = torch.arange(qs, qe, device=q.device)[:, None]
                j = torch.arange(ks, ke, device=q.device)[None, :]
                s = s.masked_fill(j > i + shift, float("-inf"))
            m_new = torch.maximum(m, s.amax(dim=-1))
            if causal:  # a row may have seen only masked keys so far: use 0 as its max, not -inf - (-inf)
                m_new_safe = torch.where(m_new == float("-inf"), 0.0, m_new)
            else:
                m_new_safe = m_new
            alpha = torch.exp(m - m_new_safe)                                # 0 on a row's first tile
            p = torch.exp(s - m_new_safe[..., None])
            l = alpha * l + p.sum(dim=-1)
            acc = alpha[..., None] * acc + p @ v[:, :, ks:ke]
            m = m_new
        out[:, :, qs:qe] = acc / l[..., None]
        lse[:, :, qs:qe] = m + torch.log(l)
    return out, lse
