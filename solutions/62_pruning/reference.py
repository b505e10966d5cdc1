"""Reference kernels for question 62: magnitude pruning masks (local and global) and 2:4 sparsity.

Conventions follow the contract in `quiz stub 62`, which follows
torch.nn.utils.prune.L1Unstructured / global_unstructured: rank by |w| (never the signed value), prune
k = round(amount * numel) entries with Python's round (half to even: round(2.5) == 2), and mark them
False in a bool mask (True = keep). The global variant ranks all tensors' magnitudes together with one
k for the total size. The 2:4 pattern groups 4 consecutive entries along the LAST dim and keeps the 2
of largest |w| in each group (NVIDIA's semi-structured sparsity; WeightNormSparsifier(1, 4)).
"""

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
    return [m.reshape(w.shape) for m, w in zip(torch.split(flat, [w.numel() for w in ws]), ws)]


def semi_structured_2_4_mask(w: Tensor) -> Tensor:
    if w.dim() == 0 or w.shape[-1] % 4 != 0:
        raise ValueError(f"the last dim of w must be divisible by 4, got shape {list(w.shape)}")
    groups = w.abs().reshape(*w.shape[:-1], w.shape[-1] // 4, 4)
    keep = torch.topk(groups, 2, dim=-1).indices
    mask = torch.zeros(groups.shape, dtype=torch.bool, device=w.device)
    mask.scatter_(-1, keep, True)
    return mask.reshape(w.shape)
