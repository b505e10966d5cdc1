"""Rewrite of magnitude_view.py: torch.nn.utils.prune's L1Unstructured.compute_mask verbatim: topk of torch.abs(t).view(-1), then mask.view(-1)[indices] = 0."""
# quizgen: question 62

import torch


def _compute_mask(t, amount):
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be a fraction in [0, 1], got amount={amount}")
    nparams_toprune = round(amount * t.nelement())
    mask = torch.ones_like(t, dtype=torch.bool)
    if nparams_toprune != 0:
        topk = torch.topk(torch.abs(t).view(-1), k=nparams_toprune, largest=False)
        mask.view(-1)[topk.indices] = False
    return mask


def magnitude_prune_mask(w, amount):
    return _compute_mask(w, amount)


def global_magnitude_prune_masks(ws, amount):
    relevant = torch.cat([w.view(-1) for w in ws])
    mask = _compute_mask(relevant, amount)
    masks, pointer = [], 0
    for w in ws:
        masks.append(mask[pointer:pointer + w.numel()].view_as(w))
        pointer += w.numel()
    return masks


def semi_structured_2_4_mask(w):
    if w.dim() == 0 or w.shape[-1] % 4 != 0:
        raise ValueError(f"the last dim of w must be divisible by 4, got shape {list(w.shape)}")
    groups = w.abs().reshape(*w.shape[:-1], w.shape[-1] // 4, 4)
    keep = torch.topk(groups, 2, dim=-1).indices
    return torch.zeros(groups.shape, dtype=torch.bool, device=w.device).scatter_(-1, keep, True).reshape(w.shape)
