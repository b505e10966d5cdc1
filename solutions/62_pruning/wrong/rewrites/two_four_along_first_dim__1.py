"""Rewrite of two_four_along_first_dim.py: transposes a 2-D-or-more weight, groups the rows of w.T, transposes back."""
# quizgen: question 62

import torch


def _check(amount):
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be a fraction in [0, 1], got amount={amount}")


def _keep(mags, k):
    keep = torch.ones(mags.numel(), dtype=torch.bool, device=mags.device)
    if k > 0:
        keep[torch.topk(mags, k, largest=False).indices] = False
    return keep


def magnitude_prune_mask(w, amount):
    _check(amount)
    return _keep(w.abs().reshape(-1), round(amount * w.numel())).reshape(w.shape)


def global_magnitude_prune_masks(ws, amount):
    _check(amount)
    mags = torch.cat([w.abs().reshape(-1) for w in ws])
    keep = _keep(mags, round(amount * mags.numel()))
    return [m.reshape(w.shape) for m, w in zip(torch.split(keep, [w.numel() for w in ws]), ws)]


def _groups_of_last_dim(a):
    if a.shape[-1] % 4 != 0:
        raise ValueError(f"the last dim of w must be divisible by 4, got shape {list(a.shape)}")
    g = a.abs().reshape(*a.shape[:-1], a.shape[-1] // 4, 4)
    idx = torch.topk(g, 2, dim=-1).indices
    return torch.zeros(g.shape, dtype=torch.bool, device=a.device).scatter_(-1, idx, True).reshape(a.shape)


def semi_structured_2_4_mask(w):
    if w.dim() == 0:
        raise ValueError("w must have at least one dim")
    if w.dim() == 1:
        return _groups_of_last_dim(w)
    perm = [w.dim() - 1] + list(range(1, w.dim() - 1)) + [0]  # swap the first and the last dims
    return _groups_of_last_dim(w.permute(perm)).permute(perm)
