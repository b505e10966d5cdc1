"""Correct: in the style of Wanda's pruning loops (locuslab/wanda, lib/prune.py, with the magnitude |W| as the
metric): an n:m loop that walks the columns in steps of 4 and scatters the 2 smallest of each block
(torch.topk(tmp, prune_n, largest=False)) into a "pruned" mask, without Wanda's .float() cast; and a stable
sort of the flattened metric for unstructured pruning, pruned = the first k indices."""
# quizgen: question 62

import torch


def _pruned_flat(metric, amount):
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"sparsity ratio amount={amount} must be within [0, 1]")
    k = round(metric.numel() * amount)
    pruned = torch.zeros(metric.numel(), dtype=torch.bool, device=metric.device)
    sort_res = torch.sort(metric, stable=True)
    pruned[sort_res.indices[:k]] = True
    return ~pruned


def magnitude_prune_mask(w, amount):
    return _pruned_flat(torch.abs(w).flatten(), amount).reshape(w.shape)


def global_magnitude_prune_masks(ws, amount):
    keep = _pruned_flat(torch.cat([torch.abs(w).flatten() for w in ws]), amount)
    out, start = [], 0
    for w in ws:
        out.append(keep[start:start + w.numel()].reshape(w.shape))
        start += w.numel()
    return out


def semi_structured_2_4_mask(w):
    prune_n, prune_m = 2, 4
    if w.dim() == 0 or w.shape[-1] % prune_m != 0:
        raise ValueError(f"the last dim of w ({w.shape[-1] if w.dim() else 'none'}) must be divisible by 4")
    W_metric = torch.abs(w).reshape(-1, w.shape[-1])
    W_mask = torch.zeros_like(W_metric, dtype=torch.bool)  # True = pruned
    for ii in range(W_metric.shape[1]):
        if ii % prune_m == 0:
            tmp = W_metric[:, ii:(ii + prune_m)]
            W_mask.scatter_(1, ii + torch.topk(tmp, prune_n, dim=1, largest=False)[1], True)
    return (~W_mask).reshape(w.shape)
