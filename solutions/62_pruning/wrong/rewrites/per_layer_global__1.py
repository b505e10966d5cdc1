"""Rewrite of per_layer_global.py: a loop that ranks each tensor's magnitudes with its own k = round(amount * numel)."""
# quizgen: question 62

import torch


def magnitude_prune_mask(w, amount):
    if not 0 <= amount <= 1:
        raise ValueError(f"amount must be in [0, 1], got amount={amount}")
    flat = w.abs().flatten()
    k = round(amount * flat.numel())
    mask = torch.ones_like(flat, dtype=torch.bool)
    if k:
        mask[flat.topk(k, largest=False).indices] = False
    return mask.reshape(w.shape)


def global_magnitude_prune_masks(ws, amount):
    if not 0 <= amount <= 1:
        raise ValueError(f"amount must be in [0, 1], got amount={amount}")
    masks = []
    for w in ws:
        flat = w.abs().flatten()
        k = round(amount * flat.numel())
        order = torch.argsort(flat)
        mask = torch.ones_like(flat, dtype=torch.bool)
        mask[order[:k]] = False
        masks.append(mask.reshape(w.shape))
    return masks


def semi_structured_2_4_mask(w):
    if w.dim() == 0 or w.shape[-1] % 4 != 0:
        raise ValueError(f"the last dim of w must be divisible by 4, got {tuple(w.shape)}")
    g = w.abs().reshape(*w.shape[:-1], w.shape[-1] // 4, 4)
    idx = g.topk(2, dim=-1).indices
    return torch.zeros(g.shape, dtype=torch.bool, device=w.device).scatter(-1, idx, True).reshape(w.shape)
