"""Reference kernels for question 64: speculative decoding's modified rejection sampling.

Conventions follow the contract in `quiz stub 64` and Leviathan et al. / Chen et al. 2023
as implemented by HF transformers' _speculative_sampling: draft i is accepted iff
u[i] <= p[i, draft[i]] / q[i, draft[i]]; n counts the accepted prefix only (the first rejection ends
the step); after a rejection at position n the next token comes from norm(max(0, p[n] - q[n])) (p[n]
itself when that residual has exactly zero mass, i.e. p[n] == q[n]); when all g drafts are accepted
the bonus token comes from the target's extra row p[g]. Distributions keep p's dtype and device; n is
a Python int.
"""

from __future__ import annotations

import torch
from torch import Tensor


def residual_distribution(p: Tensor, q: Tensor) -> Tensor:
    residual = torch.clamp(p - q, min=0)
    mass = residual.sum()
    if mass.item() == 0:
        return p
    return residual / mass


def speculative_verify(p: Tensor, q: Tensor, draft: Tensor, u: Tensor) -> tuple[int, Tensor]:
    g = q.shape[0]
    positions = torch.arange(g, device=p.device)
    ratio = p[positions, draft] / q[positions, draft]
    rejected = (u > ratio).tolist()  # accept iff u <= ratio
    n = rejected.index(True) if True in rejected else g
    if n == g:
        return g, p[g]
    return n, residual_distribution(p[n], q[n])


def expected_tokens_per_step(alpha: float, g: int) -> float:
    if alpha == 1:
        return float(g + 1)
    return (1 - alpha ** (g + 1)) / (1 - alpha)
