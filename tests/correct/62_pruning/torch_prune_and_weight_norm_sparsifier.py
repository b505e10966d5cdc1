"""Correct: adapted from torch.nn.utils.prune (L1Unstructured.compute_mask: topk of the k smallest |t|,
mask[indices] = 0; global_unstructured: one vector of all parameters, one mask cut back into pieces) and
torch.ao.pruning.WeightNormSparsifier's block mask for sparse_block_shape=(1, 4), zeros_per_block=2 (F.unfold
into blocks of 4, topk of the 2 smallest, scatter zeros, F.fold back). .view became .reshape (the weight may
be non-contiguous)."""
# quizgen: question 62

import torch
import torch.nn.functional as F


def _validate_amount(amount):
    if not (isinstance(amount, (int, float)) and 0.0 <= amount <= 1.0):
        raise ValueError(f"amount={amount} should be a float in the range [0, 1]")


def _compute_mask(t, amount):
    tensor_size = t.nelement()
    nparams_toprune = round(amount * tensor_size)
    mask = torch.ones(tensor_size, dtype=torch.bool, device=t.device)
    if nparams_toprune != 0:
        topk = torch.topk(torch.abs(t).reshape(-1), k=nparams_toprune, largest=False)
        mask[topk.indices] = False
    return mask


def magnitude_prune_mask(w, amount):
    _validate_amount(amount)
    return _compute_mask(w, amount).reshape(w.shape)


def global_magnitude_prune_masks(ws, amount):
    _validate_amount(amount)
    relevant_importance_scores = torch.cat([w.reshape(-1) for w in ws])
    final_mask = _compute_mask(relevant_importance_scores, amount)
    masks, pointer = [], 0
    for w in ws:
        num_param = w.numel()
        masks.append(final_mask[pointer:pointer + num_param].reshape(w.shape))
        pointer += num_param
    return masks


def semi_structured_2_4_mask(w):
    if w.dim() == 0 or w.shape[-1] % 4 != 0:
        raise ValueError(f"semi-structured 2:4 sparsity needs the last dim of w divisible by 4, got {tuple(w.shape)}")
    data = w.abs().reshape(-1, w.shape[-1])
    h, width = data.shape
    unfolded = F.unfold(data[None, None], kernel_size=(1, 4), stride=(1, 4))  # [1, 4, blocks]
    _, sorted_idx = torch.topk(unfolded, k=2, dim=1, largest=False)
    mask = torch.ones_like(unfolded).scatter(1, sorted_idx, 0.0)
    folded = F.fold(mask, output_size=(h, width), kernel_size=(1, 4), stride=(1, 4))
    return folded.reshape(w.shape) > 0.5
