"""Rewrite of ceil_count.py: k = -(-amount * numel // 1), the ceiling by floor division, with a sort instead of topk."""
# quizgen: question 62

import torch


def _count(amount, n):
    if amount < 0.0 or amount > 1.0:
        raise ValueError(f"amount {amount} outside [0, 1] (amount)")
    return int(-(-amount * n // 1))


def _mask(mags, k):
    keep = torch.ones(mags.shape[0], dtype=torch.bool, device=mags.device)
    keep[torch.sort(mags).indices[:k]] = False
    return keep


def magnitude_prune_mask(w, amount):
    return _mask(w.abs().reshape(-1), _count(amount, w.numel())).reshape(w.shape)


def global_magnitude_prune_masks(ws, amount):
    mags = torch.cat([w.abs().reshape(-1) for w in ws])
    keep = _mask(mags, _count(amount, mags.numel()))
    return [m.reshape(w.shape) for m, w in zip(torch.split(keep, [w.numel() for w in ws]), ws)]


def semi_structured_2_4_mask(w):
    if w.dim() == 0 or w.shape[-1] % 4 != 0:
        raise ValueError(f"the last dim of w must be divisible by 4, got shape {list(w.shape)}")
    g = w.abs().reshape(*w.shape[:-1], w.shape[-1] // 4, 4)
    rank = g.argsort(dim=-1).argsort(dim=-1)  # 0 = smallest
    return (rank >= 2).reshape(w.shape)
