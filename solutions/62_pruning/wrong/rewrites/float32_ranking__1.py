"""Rewrite of float32_ranking.py: casts w to torch.float32 up front (w.to(torch.float32)), then masks with topk values."""
# quizgen: question 62

import torch


def _check(amount):
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be in [0, 1], got amount={amount}")


def _keep(mags, k):
    keep = torch.ones(mags.numel(), dtype=torch.bool, device=mags.device)
    if k:
        keep.index_fill_(0, mags.topk(k, largest=False).indices, False)
    return keep


def magnitude_prune_mask(w, amount):
    _check(amount)
    w32 = w.to(torch.float32)
    return _keep(w32.abs().reshape(-1), round(amount * w.numel())).reshape(w.shape)


def global_magnitude_prune_masks(ws, amount):
    _check(amount)
    mags = torch.cat([w.to(torch.float32).abs().reshape(-1) for w in ws])
    keep = _keep(mags, round(amount * mags.numel()))
    return [m.reshape(w.shape) for m, w in zip(torch.split(keep, [w.numel() for w in ws]), ws)]


def semi_structured_2_4_mask(w):
    if w.dim() == 0 or w.shape[-1] % 4 != 0:
        raise ValueError(f"the last dim of w must be divisible by 4, got shape {list(w.shape)}")
    g = w.to(torch.float32).abs().reshape(*w.shape[:-1], w.shape[-1] // 4, 4)
    idx = g.topk(2, dim=-1).indices
    return torch.zeros(g.shape, dtype=torch.bool, device=w.device).scatter_(-1, idx, True).reshape(w.shape)
