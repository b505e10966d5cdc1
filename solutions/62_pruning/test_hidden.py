"""Hidden suite for question 62 (pruning): magnitude masks, global masks and the 2:4 pattern.

Every input has distinct magnitudes (|w| all different, checked), so the k smallest entries, and the 2
largest of every group of 4, are unique. Masks are compared exactly (torch.bool, True = keep). Each function
also gets non-contiguous weights (a transposed layout: .view raises there, .reshape does not) and float64
weights whose magnitudes differ by 1e-9 only (distinct in float64, all equal once rounded to float32, so a
ranking done in float32 picks an arbitrary subset).
"""

import pytest
import torch
from torch.nn.utils import prune

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    GraderError,
    assert_equal,
    describe,
    expect_value_error,
    explained,
    non_contiguous,
    points,
)


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _distinct(rng, shape, dtype, scale=1.0):
    """Random signs and magnitudes that are all different (a shuffled ladder with random offsets)."""
    n = _numel(shape)
    mags = (torch.randperm(n, generator=rng).double() + 1.0 + 0.5 * torch.rand(n, generator=rng, dtype=torch.float64)) / n
    signs = torch.where(torch.rand(n, generator=rng) < 0.5, -1.0, 1.0).double()
    return (mags * signs * scale).reshape(shape).to(dtype)


def _nearly_equal(rng, shape, offset=0.0):
    """float64 magnitudes 1 + offset + (a shuffled 0, 1, 2, ...) * 1e-9: distinct, but one value in float32."""
    n = _numel(shape)
    mags = 1.0 + offset + torch.randperm(n, generator=rng).double() * 1e-9
    signs = torch.where(torch.rand(n, generator=rng) < 0.5, -1.0, 1.0).double()
    return (mags * signs).reshape(shape)


def _assert_distinct(ws):
    mags = torch.cat([w.abs().double().reshape(-1) for w in ws])
    if torch.unique(mags).numel() != mags.numel():
        raise GraderError("tied magnitudes in a random input")


def _kept_by_definition(w, k):
    """True for all but the k smallest |w| (a sort, independent of topk)."""
    order = torch.argsort(w.abs().reshape(-1).double(), stable=True)
    mask = torch.ones(w.numel(), dtype=torch.bool)
    mask[order[:k]] = False
    return mask.reshape(w.shape)


def _check_pruned_count(got, k, what):
    """A first, plain check: how many entries are pruned (False) in total."""
    masks = got if isinstance(got, (list, tuple)) else [got]
    if all(isinstance(m, torch.Tensor) and m.dtype == torch.bool for m in masks):
        pruned = sum(int((~m).sum()) for m in masks)
        if pruned != k:
            raise AssertionError(f"{what}: {pruned} entries pruned (False), expected exactly k = {k}")


def _module_with(w):
    module = torch.nn.Module()
    module.weight = torch.nn.Parameter(w.clone().contiguous())
    return module


def _inputs(**named):
    return f"({describe(**named)})"


# -- magnitude_prune_mask ------------------------------------------------------------------------

MAGNITUDE_CASES = [((8, 16), 0.3), ((5,), 0.5), ((3, 7, 5), 0.9), ((1, 1), 0.5), ((13, 11), 0.25), ((4, 33), 0.7)]


@points(12)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape,amount", MAGNITUDE_CASES)
def test_magnitude_prune_mask_matches_reference(submission, reference, rng, shape, amount, dtype):
    w = _distinct(rng, shape, dtype)
    _assert_distinct([w])
    got = submission.magnitude_prune_mask(w, amount)
    k = round(amount * w.numel())
    what = f"pruning mask {_inputs(w=w, amount=amount)}"
    with explained(f"False for the k = round({amount} * {w.numel()}) = {k} entries of smallest |w|, True elsewhere"):
        _check_pruned_count(got, k, what)
        assert_equal(got, reference.magnitude_prune_mask(w, amount), name="pruning mask", context=_inputs(w=w, amount=amount))


@points(8)
@pytest.mark.parametrize("shape,amount", [((6, 10), 0.4), ((7, 3), 0.5), ((2, 3, 4), 0.85)])
def test_magnitude_prune_mask_matches_torch_l1_unstructured(submission, rng, shape, amount):
    w = _distinct(rng, shape, torch.float64, scale=0.2)
    _assert_distinct([w])
    module = _module_with(w)
    prune.l1_unstructured(module, "weight", amount=amount)
    with explained("the same mask as torch.nn.utils.prune.l1_unstructured(module, 'weight', amount)"):
        assert_equal(submission.magnitude_prune_mask(w, amount), module.weight_mask.bool(), name="pruning mask",
                     context=_inputs(w=w, amount=amount))


@points(10)
@pytest.mark.parametrize("numel,amount,k", [(5, 0.5, 2), (5, 0.3, 2), (7, 0.3, 2), (6, 0.75, 4), (10, 0.25, 2),
                                            (9, 0.5, 4)])
def test_prune_count_is_python_round_of_amount_times_numel(submission, rng, numel, amount, k):
    w = _distinct(rng, (numel,), torch.float32)
    got = submission.magnitude_prune_mask(w, amount)
    with explained(f"amount * numel = {amount * numel:g} and Python's round (half to even) gives k = {k} pruned "
                   "entries; not ceil, floor or round-half-up"):
        _check_pruned_count(got, k, f"pruning mask {_inputs(w=w, amount=amount)}")
        assert_equal(got, _kept_by_definition(w, k), name="pruning mask", context=_inputs(w=w, amount=amount))


@points(5)
def test_magnitude_prune_ranks_by_absolute_value(submission):
    w = torch.tensor([[-5.0, 0.1, -0.2, 3.0], [-4.0, 0.05, 2.0, -0.01]])
    got = submission.magnitude_prune_mask(w, 0.5)
    want = torch.tensor([[True, False, False, True], [True, False, True, False]])
    with explained("amount 0.5 prunes the 4 smallest |w| (0.1, -0.2, 0.05, -0.01); large negative weights are kept, "
                   "and the kept entries are the LARGEST |w|"):
        assert_equal(got, want, name="pruning mask", context="(w = [[-5, 0.1, -0.2, 3], [-4, 0.05, 2, -0.01]], amount 0.5)")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("amount", [0.0, 1.0])
def test_amount_0_keeps_everything_and_amount_1_prunes_everything(submission, rng, amount, dtype):
    w = _distinct(rng, (5, 6), dtype)
    v = _distinct(rng, (7,), dtype, scale=3.0)
    keep = amount == 0.0
    why = ("amount 0.0 is allowed and prunes nothing (k = 0)" if keep else
           "amount 1.0 is allowed and prunes everything (k = numel)")
    with explained(why):
        assert_equal(submission.magnitude_prune_mask(w, amount), torch.full((5, 6), keep), name="mask",
                     context=_inputs(w=w, amount=amount))
        masks = submission.global_magnitude_prune_masks([w, v], amount)
        _check_masks(masks, [torch.full((5, 6), keep), torch.full((7,), keep)],
                     f"global masks {_inputs(w0=w, w1=v, amount=amount)}")


# -- global_magnitude_prune_masks ----------------------------------------------------------------

def _layers(rng, shapes, dtype, scales):
    for _ in range(20):
        ws = [_distinct(rng, s, dtype, scale=c) for s, c in zip(shapes, scales)]
        mags = torch.cat([w.abs().double().reshape(-1) for w in ws])
        if torch.unique(mags).numel() == mags.numel():
            return ws
    raise GraderError("tied magnitudes in random layers")


def _check_masks(got, want, what):
    if not (isinstance(got, (list, tuple)) and len(got) == len(want)):
        size = len(got) if hasattr(got, "__len__") else "?"
        raise AssertionError(f"{what}: expected a list of {len(want)} masks, got {type(got).__name__} of length {size}")
    for i, (g, e) in enumerate(zip(got, want)):
        assert_equal(g, e, name=f"mask {i} (of the tensor of shape {list(e.shape)})", context=what)


GLOBAL_CASES = [([(4, 8), (16,), (3, 5)], [1.0, 0.3, 2.0], 0.5), ([(7, 3), (2, 2, 5)], [0.5, 1.0], 0.35),
                ([(9,)], [1.0], 0.6), ([(6, 6), (1, 12), (5,), (2, 3)], [0.1, 1.0, 4.0, 0.7], 0.8)]


def _shapes_text(ws):
    return "[" + ", ".join(f"{list(w.shape)} {str(w.dtype).removeprefix('torch.')}" for w in ws) + "]"


@points(8)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shapes,scales,amount", GLOBAL_CASES)
def test_global_magnitude_prune_masks_match_reference(submission, reference, rng, shapes, scales, amount, dtype):
    ws = _layers(rng, shapes, dtype, scales)
    total = sum(w.numel() for w in ws)
    what = f"(ws = {_shapes_text(ws)}, amount={amount})"
    got = submission.global_magnitude_prune_masks(ws, amount)
    with explained(f"prune the k = round({amount} * {total}) = {round(amount * total)} smallest |w| of ALL tensors "
                   "together, and return one mask per tensor"):
        _check_pruned_count(got, round(amount * total), f"global masks {what}")
        _check_masks(got, reference.global_magnitude_prune_masks(ws, amount), what)


@points(5)
@pytest.mark.parametrize("shapes,scales,amount", [GLOBAL_CASES[0], GLOBAL_CASES[3]])
def test_global_magnitude_prune_masks_match_torch_global_unstructured(submission, rng, shapes, scales, amount):
    ws = _layers(rng, shapes, torch.float64, scales)
    modules = [_module_with(w) for w in ws]
    prune.global_unstructured([(m, "weight") for m in modules], pruning_method=prune.L1Unstructured, amount=amount)
    with explained("the same masks as torch.nn.utils.prune.global_unstructured(..., pruning_method=L1Unstructured)"):
        _check_masks(submission.global_magnitude_prune_masks(ws, amount), [m.weight_mask.bool() for m in modules],
                     f"(ws = {_shapes_text(ws)}, amount={amount})")


@points(8)
def test_global_pruning_ranks_all_tensors_together(submission):
    small = torch.tensor([[0.01, -0.03, 0.02], [-0.05, 0.04, -0.06]])
    large = torch.tensor([1.0, -2.0, 3.0, -0.5])
    masks = submission.global_magnitude_prune_masks([small, large], 0.5)
    with explained("the 5 smallest of all 10 magnitudes are all in the first tensor; pruning each tensor separately "
                   "would prune half of each"):
        _check_masks(masks, [torch.tensor([[False, False, False], [False, False, True]]), torch.ones(4, dtype=torch.bool)],
                     "(ws = [[[0.01, -0.03, 0.02], [-0.05, 0.04, -0.06]], [1, -2, 3, -0.5]], amount=0.5)")


@points(5)
@pytest.mark.parametrize("sizes,amount,k", [([5, 5], 0.5, 5), ([5, 5, 5], 0.3, 4), ([3, 7], 0.25, 2)])
def test_global_count_is_rounded_once_over_the_total(submission, rng, sizes, amount, k):
    ws = _layers(rng, [(s,) for s in sizes], torch.float32, [1.0] * len(sizes))
    masks = submission.global_magnitude_prune_masks(ws, amount)
    flat = _kept_by_definition(torch.cat(ws), k)
    want = list(torch.split(flat, sizes))
    what = f"(ws = {_shapes_text(ws)}, amount={amount})"
    with explained(f"k = round({amount} * {sum(sizes)}) = {k} over the total, not a sum of per-tensor roundings"):
        _check_pruned_count(masks, k, f"global masks {what}")
        _check_masks(masks, want, what)


# -- 2:4 semi-structured -------------------------------------------------------------------------

def _two_four_by_definition(w):
    g = w.abs().double().reshape(*w.shape[:-1], w.shape[-1] // 4, 4)
    larger = (g[..., None, :] > g[..., :, None]).sum(dim=-1)  # how many in the group have a larger |w|
    return (larger < 2).reshape(w.shape)


TWO_FOUR_WHY = "in each group of 4 consecutive entries along the LAST dim, keep the 2 largest |w| (True), prune the other 2"


@points(9)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(8, 16), (8,), (2, 3, 12), (5, 4), (1, 4), (12, 20)])
def test_semi_structured_2_4_mask_matches_definition(submission, reference, rng, shape, dtype):
    w = _distinct(rng, shape, dtype)
    got = submission.semi_structured_2_4_mask(w)
    with explained(TWO_FOUR_WHY):
        assert_equal(got, _two_four_by_definition(w), name="2:4 mask", context=_inputs(w=w))
        assert_equal(got, reference.semi_structured_2_4_mask(w), name="2:4 mask (vs reference)", context=_inputs(w=w))


@points(5)
def test_semi_structured_2_4_mask_groups_along_the_last_dim(submission):
    w = torch.tensor([[0.1, -0.9, 0.3, 0.2, 5.0, -6.0, 0.01, 7.0],
                      [-0.4, 0.05, 0.6, -0.7, 0.15, 0.25, -0.35, 0.45],
                      [8.0, -0.02, 0.03, -9.0, -1.1, 1.2, 1.3, -1.4],
                      [0.5, 0.55, -0.65, 0.75, 2.5, -2.4, 2.3, -2.2]])
    got = submission.semi_structured_2_4_mask(w)
    want = torch.tensor([[False, True, True, False, False, True, False, True],
                         [False, False, True, True, False, False, True, True],
                         [True, False, False, True, False, False, True, True],
                         [False, False, True, True, True, True, False, False]])
    with explained("groups are w[r, 0:4] and w[r, 4:8] of each row; each keeps its 2 largest |w|: exactly 2 True per "
                   "group, and negative weights of large magnitude are kept"):
        assert_equal(got, want, name="2:4 mask of a [4, 8] weight", context=f"(w = {w.tolist()})")


# -- every function: non-contiguous inputs, float64 precision -------------------------------------

@points(6)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("function", ["magnitude_prune_mask", "global_magnitude_prune_masks", "semi_structured_2_4_mask"])
def test_non_contiguous_weights(submission, reference, rng, function, dtype):
    w = non_contiguous(_distinct(rng, (12, 16), dtype))
    v = non_contiguous(_distinct(rng, (8, 4), dtype, scale=0.7))[:, 1:3]  # a column slice of a transposed layout
    _assert_distinct([w, v])
    with explained("the weight arrives in a transposed layout (w.T.contiguous().T): the same values, so the same mask; "
                   "w.view(...) raises on such a tensor, use w.reshape(...) or w.flatten()"):
        if function == "magnitude_prune_mask":
            assert_equal(submission.magnitude_prune_mask(w, 0.4), reference.magnitude_prune_mask(w, 0.4),
                         name="pruning mask", context=_inputs(w=w, amount=0.4))
        elif function == "global_magnitude_prune_masks":
            _check_masks(submission.global_magnitude_prune_masks([w, v], 0.6),
                         reference.global_magnitude_prune_masks([w, v], 0.6), f"(ws = {_inputs(w0=w, w1=v)}, amount=0.6)")
        else:
            assert_equal(submission.semi_structured_2_4_mask(w), _two_four_by_definition(w), name="2:4 mask",
                         context=_inputs(w=w))


@points(6)
@pytest.mark.parametrize("function", ["magnitude_prune_mask", "global_magnitude_prune_masks", "semi_structured_2_4_mask"])
def test_float64_magnitudes_closer_than_float32_resolves(submission, rng, function):
    w = _nearly_equal(rng, (6, 8))
    v = _nearly_equal(rng, (10,), offset=0.5e-9)  # interleaves with w, no ties
    with explained("float64 magnitudes 1 + j * 1e-9 (j shuffled): all distinct in float64, but all 1.0 in float32, "
                   "so the ranking must be done in float64 (never cast w to float32)"):
        if function == "magnitude_prune_mask":
            assert_equal(submission.magnitude_prune_mask(w, 0.5), _kept_by_definition(w, 24), name="pruning mask",
                         context=_inputs(w=w, amount=0.5))
        elif function == "global_magnitude_prune_masks":
            want = list(torch.split(_kept_by_definition(torch.cat([w.reshape(-1), v]), 29), [48, 10]))
            _check_masks(submission.global_magnitude_prune_masks([w, v], 0.5),
                         [want[0].reshape(w.shape), want[1]], f"(ws = {_inputs(w0=w, w1=v)}, amount=0.5)")
        else:
            assert_equal(submission.semi_structured_2_4_mask(w), _two_four_by_definition(w), name="2:4 mask",
                         context=_inputs(w=w))


# -- errors --------------------------------------------------------------------------------------

@points(5)
@pytest.mark.parametrize("function", ["magnitude_prune_mask", "global_magnitude_prune_masks"])
@pytest.mark.parametrize("amount", [-0.1, 1.5])
def test_rejects_amount_outside_0_1(submission, rng, function, amount):
    w = _distinct(rng, (3, 8), torch.float32)
    with expect_value_error("amount"):
        if function == "magnitude_prune_mask":
            submission.magnitude_prune_mask(w, amount)
        else:
            submission.global_magnitude_prune_masks([w, w[:1].clone()], amount)


@points(3)
@pytest.mark.parametrize("shape", [(4, 6), (4, 10), (3,)])
def test_semi_structured_2_4_mask_rejects_last_dim_not_divisible_by_4(submission, rng, shape):
    with expect_value_error("w"):
        submission.semi_structured_2_4_mask(_distinct(rng, shape, torch.float32))
