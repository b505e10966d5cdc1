"""Rewrite of two_four_view.py: torch.abs(w).view(w.numel() // 4, 4), then a rank count per group."""
# quizgen: question 62

import torch


def _check(amount):
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be in [0, 1], got amount={amount}")


def _prune(mags, k):
    keep = torch.ones_like(mags, dtype=torch.bool)
    if k:
        keep[mags.topk(k, largest=False).indices] = False
    return keep


def magnitude_prune_mask(w, amount):
    _check(amount)
    return _prune(w.abs().reshape(-1), round(amount * w.numel())).reshape(w.shape)


def global_magnitude_prune_masks(ws, amount):
    _check(amount)
    mags = torch.cat([w.abs().reshape(-1) for w in ws])
    keep = _prune(mags, round(amount * mags.numel()))
    return list(m.reshape(w.shape) for m, w in zip(keep.split([w.numel() for w in ws]), ws))


def semi_structured_2_4_mask(w):
    if w.dim() == 0 or w.shape[-1] % 4 != 0:
        raise ValueError(f"last dim of w ({w.shape[-1] if w.dim() else None}) is not divisible by 4")
    g = torch.abs(w).view(w.numel() // 4, 4)
    larger = (g.unsqueeze(-2) > g.unsqueeze(-1)).sum(-1)
    return (larger < 2).reshape(w.shape)
