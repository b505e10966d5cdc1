"""Rewrite of keeps_smallest.py: argsort in descending order and prunes the first k, written with a shared helper."""
# quizgen: question 62

import torch


def _prune_flat(mags, amount):
    if amount < 0 or amount > 1:
        raise ValueError(f"amount={amount} is outside [0, 1]")
    k = round(amount * mags.numel())
    keep = torch.ones_like(mags, dtype=torch.bool)
    keep[torch.argsort(mags, descending=True)[:k]] = False
    return keep


def magnitude_prune_mask(w, amount):
    return _prune_flat(w.abs().flatten(), amount).reshape(w.shape)


def global_magnitude_prune_masks(ws, amount):
    flat = _prune_flat(torch.cat([w.abs().flatten() for w in ws]), amount)
    out, start = [], 0
    for w in ws:
        out.append(flat[start:start + w.numel()].reshape(w.shape))
        start += w.numel()
    return out


def semi_structured_2_4_mask(w):
    if w.shape[-1] % 4:
        raise ValueError(f"w's last dim {w.shape[-1]} is not divisible by 4")
    g = w.abs().reshape(-1, 4)
    order = g.argsort(dim=1, descending=True)
    mask = torch.zeros_like(g, dtype=torch.bool).scatter(1, order[:, :2], True)
    return mask.reshape(w.shape)
