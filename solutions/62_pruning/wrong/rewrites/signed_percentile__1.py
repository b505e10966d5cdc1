"""Rewrite of signed_percentile.py: sorts the signed weights (torch.sort) and prunes the k lowest values."""
# quizgen: question 62

import torch


def _check(amount):
    if not (0.0 <= amount <= 1.0):
        raise ValueError("amount must lie in [0, 1]; amount=" + repr(amount))


def _lowest_k(values, k):
    keep = torch.ones(values.numel(), dtype=torch.bool, device=values.device)
    keep[torch.sort(values).indices[:k]] = False
    return keep


def magnitude_prune_mask(w, amount):
    _check(amount)
    return _lowest_k(w.flatten(), round(amount * w.numel())).view(w.shape)


def global_magnitude_prune_masks(ws, amount):
    _check(amount)
    values = torch.cat([w.flatten() for w in ws])
    keep = _lowest_k(values, round(amount * values.numel()))
    return [part.reshape(w.shape) for part, w in zip(keep.split([w.numel() for w in ws]), ws)]


def semi_structured_2_4_mask(w):
    if w.ndim == 0 or w.size(-1) % 4 != 0:
        raise ValueError("the last dim of w must be a multiple of 4")
    g = w.abs().reshape(*w.shape[:-1], -1, 4)
    top = g.topk(2, dim=-1).indices
    return torch.zeros_like(g, dtype=torch.bool).scatter_(-1, top, True).reshape(w.shape)
