"""Known-wrong: the residual is (p - q) / sum(p - q) without the clamp at 0: the sum is about 0, so the values blow up."""
# quizgen: question 64

from __future__ import annotations

import torch
from torch import Tensor


def residual_distribution(p: Tensor, q: Tensor) -> Tensor:
    residual = p - q
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
