"""Known-wrong: reads p[i, draft[i]] through p.view(-1)[i * V + draft[i]], which raises for a non-contiguous p."""
# quizgen: question 64

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
    V = p.shape[1]
    ratio = p.view(-1)[positions * V + draft] / q.view(-1)[positions * V + draft]
    rejected = (u > ratio).tolist()  # accept iff u <= ratio
    n = rejected.index(True) if True in rejected else g
    if n == g:
        return g, p[g]
    return n, residual_distribution(p[n], q[n])


def expected_tokens_per_step(alpha: float, g: int) -> float:
    if alpha == 1:
        return float(g + 1)
    return (1 - alpha ** (g + 1)) / (1 - alpha)
