"""Known-wrong: global pruning returns one flat mask over all tensors instead of one mask per tensor."""
# quizgen: question 62

from __future__ import annotations

import torch
from torch import Tensor


def _check_amount(amount: float) -> None:
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be a fraction in [0, 1], got amount={amount}")


def _keep_mask(magnitudes: Tensor, k: int) -> Tensor:
    """Flat bool mask, False for the k smallest magnitudes."""
    mask = torch.ones(magnitudes.numel(), dtype=torch.bool, device=magnitudes.device)
    if k > 0:
        pruned = torch.topk(magnitudes.reshape(-1), k, largest=False).indices
        mask[pruned] = False
    return mask


def magnitude_prune_mask(w: Tensor, amount: float) -> Tensor:
    _check_amount(amount)
    k = round(amount * w.numel())
    return _keep_mask(w.abs(), k).reshape(w.shape)


def global_magnitude_prune_masks(ws: list[Tensor], amount: float) -> list[Tensor]:
    _check_amount(amount)
    magnitudes = torch.cat([w.abs().reshape(-1) for w in ws])
    k = round(amount * magnitudes.numel())
    flat = _keep_mask(magnitudes, k)
    return [flat]


def semi_structured_2_4_mask(w: Tensor) -> Tensor:
    if w.dim() == 0 or w.shape[-1] % 4 != 0:
        raise ValueError(f"the last dim of w must be divisible by 4, got shape {list(w.shape)}")
    groups = w.abs().reshape(*w.shape[:-1], w.shape[-1] // 4, 4)
    keep = torch.topk(groups, 2, dim=-1).indices
    mask = torch.zeros(groups.shape, dtype=torch.bool, device=w.device)
    mask.scatter_(-1, keep, True)
    return mask.reshape(w.shape)
