"""The reference of question 62 (pruning masks) against independent peers.

Peers: torch.nn.utils.prune.l1_unstructured and prune.global_unstructured (L1Unstructured), and for 2:4
torch.ao.pruning.WeightNormSparsifier(sparsity_level=1.0, sparse_block_shape=(1, 4), zeros_per_block=2)
plus the definition (a sort inside each group of 4). Inputs have distinct magnitudes.
"""

import pytest
import torch
from torch.ao.pruning import WeightNormSparsifier
from torch.nn.utils import prune

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(62)).load_reference()


def _weights(seed, *shape):
    w = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    assert torch.unique(w.abs()).numel() == w.numel()
    return w


def _module(w):
    module = torch.nn.Module()
    module.weight = torch.nn.Parameter(w.clone())
    return module


@pytest.mark.parametrize("numel,amount", [(5, 0.5), (6, 0.75), (10, 0.25), (120, 0.3), (77, 0.9), (64, 0.0), (9, 1.0)])
def test_magnitude_prune_mask_matches_l1_unstructured(ref, numel, amount):
    w = _weights(numel, numel).reshape(-1, 1) if numel % 2 else _weights(numel, numel).reshape(2, -1)
    module = _module(w)
    prune.l1_unstructured(module, "weight", amount=amount)
    mask = ref.magnitude_prune_mask(w, amount)
    assert mask.dtype == torch.bool and mask.shape == w.shape
    assert torch.equal(mask, module.weight_mask.bool())
    assert int((~mask).sum()) == round(amount * numel)


def test_round_half_to_even_gives_k_2_for_half_of_5(ref):
    w = torch.tensor([0.5, -0.1, 0.3, -0.2, 0.4], dtype=torch.float64)
    assert ref.magnitude_prune_mask(w, 0.5).tolist() == [True, False, True, False, True]


def test_magnitude_prune_keeps_large_negative_weights(ref):
    w = torch.tensor([-5.0, 0.1, -0.2, 3.0, -4.0, 0.05, 2.0, -0.01], dtype=torch.float64)
    assert ref.magnitude_prune_mask(w, 0.5).tolist() == [True, False, False, True, True, False, True, False]


@pytest.mark.parametrize("amount", [0.0, 0.35, 0.5, 0.8, 1.0])
def test_global_masks_match_global_unstructured(ref, amount):
    ws = [_weights(1, 4, 8) * 0.3, _weights(2, 16), _weights(3, 3, 5) * 2.0]
    assert torch.unique(torch.cat([w.abs().reshape(-1) for w in ws])).numel() == 63
    modules = [_module(w) for w in ws]
    prune.global_unstructured([(m, "weight") for m in modules], pruning_method=prune.L1Unstructured, amount=amount)
    masks = ref.global_magnitude_prune_masks(ws, amount)
    assert len(masks) == 3
    for mask, module in zip(masks, modules):
        assert mask.dtype == torch.bool and torch.equal(mask, module.weight_mask.bool())


def test_global_masks_round_once_over_the_total(ref):
    ws = [_weights(4, 5), _weights(5, 5)]
    masks = ref.global_magnitude_prune_masks(ws, 0.5)
    assert sum(int((~m).sum()) for m in masks) == 5  # round(0.5 * 10), not round(2.5) + round(2.5)


@pytest.mark.parametrize("rows,cols", [(6, 16), (1, 4), (9, 12)])
def test_2_4_mask_matches_weight_norm_sparsifier(ref, rows, cols):
    w = _weights(rows * cols, rows, cols).to(torch.float32)
    linear = torch.nn.Linear(cols, rows, bias=False)
    with torch.no_grad():
        linear.weight.copy_(w)
    model = torch.nn.Sequential(linear)
    sparsifier = WeightNormSparsifier(sparsity_level=1.0, sparse_block_shape=(1, 4), zeros_per_block=2)
    sparsifier.prepare(model, [{"tensor_fqn": "0.weight"}])
    sparsifier.step()
    assert torch.equal(ref.semi_structured_2_4_mask(w), model[0].parametrizations.weight[0].mask.bool())


def test_2_4_mask_matches_a_sort_in_each_group(ref):
    w = _weights(7, 3, 5, 8)
    mask = ref.semi_structured_2_4_mask(w)
    groups = w.abs().reshape(3, 5, 2, 4)
    top2 = groups.sort(dim=-1, descending=True).values[..., 1:2]  # the second largest |w| of each group
    assert torch.equal(mask, (groups >= top2).reshape(w.shape))
    assert torch.equal(mask.reshape(-1, 4).sum(dim=1), torch.full((30,), 2))


def test_bad_arguments_raise_value_error(ref):
    with pytest.raises(ValueError, match="amount"):
        ref.magnitude_prune_mask(torch.ones(3), 1.5)
    with pytest.raises(ValueError, match="amount"):
        ref.global_magnitude_prune_masks([torch.ones(3)], -0.1)
    with pytest.raises(ValueError, match="w"):
        ref.semi_structured_2_4_mask(torch.ones(4, 6))


def test_reference_on_non_contiguous_and_float64_close_magnitudes(ref):
    # The suite's two new input classes: a transposed layout, and magnitudes 1e-9 apart (one value in float32).
    w = _weights(7, 12, 16)
    strided = w.T.contiguous().T
    assert not strided.is_contiguous()
    assert torch.equal(ref.magnitude_prune_mask(strided, 0.4), ref.magnitude_prune_mask(w, 0.4))
    assert torch.equal(ref.semi_structured_2_4_mask(strided), ref.semi_structured_2_4_mask(w))
    order = torch.randperm(48, generator=torch.Generator().manual_seed(3))
    close = (1.0 + order.double() * 1e-9).reshape(6, 8)
    assert torch.unique(close.float()).numel() == 1  # all equal in float32
    mask = ref.magnitude_prune_mask(close, 0.5)
    assert torch.equal(mask.reshape(-1), order >= 24)  # the 24 smallest are the first 24 of the ladder
    module = _module(close)
    prune.l1_unstructured(module, "weight", amount=0.5)
    assert torch.equal(mask, module.weight_mask.bool())
