"""The reference of question 53 against independent peers (facts.md Q53 (e)) and exact pair counts, in float64."""

import math

import pytest
import torch
import torch.nn.functional as F

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(53)).load_reference()


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(53)


def _close(a, b, tol=1e-12):
    # (torch.testing.assert_close would cost seconds of first-call imports.)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    err = float(((a - b).abs() - tol * b.abs()).max()) if a.numel() else 0.0
    assert err <= tol, f"max error {err:.3g} > {tol:g}"


@pytest.mark.parametrize("n,window", [(1, 1), (10, 1), (12, 4), (9, 9), (6, 20), (40, 7)])
def test_sliding_window_mask_has_the_exact_pair_count(ref, n, window):
    mask = ref.sliding_window_causal_mask(n, window)
    assert mask.dtype == torch.bool and mask.shape == (n, n)
    expected = n * window - window * (window - 1) // 2 if n >= window else n * (n + 1) // 2
    assert int(mask.sum()) == expected == sum(min(i + 1, window) for i in range(n))
    for i in range(n):
        for j in range(n):
            assert bool(mask[i, j]) == (i - window < j <= i)


@pytest.mark.parametrize("n,stride", [(1, 1), (9, 1), (16, 4), (10, 3), (5, 8)])
def test_strided_masks_follow_the_sparse_transformer_definition(ref, n, stride):
    local, strided = ref.strided_sparse_masks(n, stride)
    for i in range(n):
        for j in range(n):
            assert bool(local[i, j]) == (0 <= i - j < stride)
            assert bool(strided[i, j]) == (j <= i and (i - j) % stride == 0)
    # with stride ~ sqrt(n) each row holds at most stride + n / stride keys
    assert int((local | strided).sum(dim=1).max()) <= stride + math.ceil(n / stride)


@pytest.mark.parametrize("B,H,T,D,window", [(2, 3, 17, 8, 5), (1, 2, 9, 4, 1), (2, 1, 12, 6, 12), (1, 1, 1, 3, 2)])
def test_local_attention_matches_sdpa_with_window_mask(ref, gen, B, H, T, D, window):
    q, k, v = (torch.randn(B, H, T, D, generator=gen, dtype=torch.float64) * 2 for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=ref.sliding_window_causal_mask(T, window))
    _close(ref.local_attention(q, k, v, window), expected)


def test_local_attention_with_a_window_covering_the_sequence_matches_causal_sdpa(ref, gen):
    q, k, v = (torch.randn(2, 2, 10, 8, generator=gen, dtype=torch.float64) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    for window in (10, 11, 1000):
        _close(ref.local_attention(q, k, v, window), expected)


def test_rejects_window_and_stride_below_1(ref):
    with pytest.raises(ValueError, match="window"):
        ref.sliding_window_causal_mask(4, 0)
    with pytest.raises(ValueError, match="window"):
        ref.local_attention(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), 0)
    with pytest.raises(ValueError, match="stride"):
        ref.strided_sparse_masks(4, 0)
