"""Correct: magnitude masks by a sorted threshold, as open_lth's SparseGlobal strategy (Frankle et al.,
facebookresearch/open_lth: threshold = sort(|weights|)[number to prune], keep |w| above it; here >= so that
exactly k are pruned), and 2:4 by NVIDIA Apex ASP's m4n2_1d (apex/contrib/sparsity/sparse_masklib.py): score
each of the 6 valid 2-of-4 patterns by |w| @ pattern and keep the best pattern of every group."""
# quizgen: question 62

import itertools

import torch


def _check_amount(amount):
    if amount < 0 or amount > 1:
        raise ValueError("amount must be in [0, 1], got amount=%r" % (amount,))


def _threshold_mask(magnitudes, amount):
    number_of_weights_to_prune = round(amount * magnitudes.numel())
    if number_of_weights_to_prune == magnitudes.numel():
        return torch.zeros_like(magnitudes, dtype=torch.bool)
    threshold = torch.sort(magnitudes.flatten()).values[number_of_weights_to_prune]
    return magnitudes >= threshold


def magnitude_prune_mask(w, amount):
    _check_amount(amount)
    return _threshold_mask(w.abs(), amount)


def global_magnitude_prune_masks(ws, amount):
    _check_amount(amount)
    weight_vector = torch.cat([w.abs().flatten() for w in ws])
    keep = _threshold_mask(weight_vector, amount)
    return [part.reshape(w.shape) for part, w in zip(torch.split(keep, [w.numel() for w in ws]), ws)]


def _valid_1d_patterns(m=4, n=2):
    rows = sorted({p for p in itertools.permutations([1] * n + [0] * (m - n))})
    return torch.tensor(rows, dtype=torch.float64)


def semi_structured_2_4_mask(w):
    if w.ndim == 0 or w.shape[-1] % 4:
        raise ValueError("w: the last dim must be divisible by 4 for 2:4 sparsity, got shape %s" % (list(w.shape),))
    patterns = _valid_1d_patterns().to(device=w.device, dtype=w.dtype)  # [6, 4]
    mat = w.abs().reshape(-1, 4)
    pmax = torch.argmax(torch.matmul(mat, patterns.t()), dim=1)
    return patterns[pmax].bool().reshape(w.shape)
