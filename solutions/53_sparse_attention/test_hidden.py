"""Hidden suite for question 53 (sparse-attention). Runs in the trusted process; see quizgen.grading.suite.

Masks are checked exactly: against the reference, against literal hand-built matrices, and by their pair
counts (sum_i min(i + 1, window) for the sliding window; min(i + 1, stride) and i // stride + 1 per row
for the strided pair), which need no reference at all. local_attention is compared with the reference,
with F.scaled_dot_product_attention under a boolean mask built here from the definition, with plain causal
SDPA when the window covers the sequence, with a per-query loop, and with the exact invariant window = 1 ->
out == v. The memory rule is checked at sizes drawn fresh each run from one range, T = 2048-8191, under an OS limit on
the worker's memory where a [T, T] tensor cannot fit whatever the trace says; the trace (no op output of
T*T/2 elements or more) names the op that built it.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    assert_close,
    assert_equal,
    assert_no_square_intermediate,
    call_within_memory,
    describe,
    expect_tuple,
    expect_value_error,
    non_contiguous,
    points,
    randn,
    rule,
)

LOOSE = 4.0  # local attention may sum its window in another order than the reference


def _window_mask(n, window):
    """The definition, written independently of the reference: i - window < j <= i."""
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    return (j <= i) & (j > i - window)


# ----------------------------------------------------------------------------------------------------
# sliding_window_causal_mask
# ----------------------------------------------------------------------------------------------------

MASK_CASES = [(1, 1), (5, 1), (7, 3), (10, 10), (9, 20), (16, 4), (13, 6)]


@points(5)
def test_sliding_window_mask_hand_built(submission):
    expected = torch.tensor([[1, 0, 0, 0, 0],
                             [1, 1, 0, 0, 0],
                             [0, 1, 1, 0, 0],
                             [0, 0, 1, 1, 0],
                             [0, 0, 0, 1, 1]], dtype=torch.bool)
    assert_equal(submission.sliding_window_causal_mask(5, 2), expected, name="sliding_window_causal_mask(5, 2)",
                 context="(window = 2: each query sees itself and the one key before it)")


@points(7)
@pytest.mark.parametrize("n,window", MASK_CASES)
def test_sliding_window_mask_matches_reference(submission, reference, n, window):
    mask = submission.sliding_window_causal_mask(n, window)
    assert_equal(mask, reference.sliding_window_causal_mask(n, window), name=f"sliding_window_causal_mask({n}, {window})",
                 context="(True where i - window < j <= i: the key itself and the window - 1 keys before it)")


@points(7)
@pytest.mark.parametrize("n,window", [(12, 4), (8, 1), (6, 6), (5, 9), (31, 7)])
def test_sliding_window_mask_pair_counts(submission, n, window):
    mask = submission.sliding_window_causal_mask(n, window)
    assert_equal(mask.sum(dim=1), torch.tensor([min(i + 1, window) for i in range(n)]),
                 name=f"keys per query row of sliding_window_causal_mask({n}, {window})",
                 context=f"(query i attends min(i + 1, window) keys: exactly window = {window} once i >= window - 1)")
    total = sum(min(i + 1, window) for i in range(n))
    assert int(mask.sum()) == total, (f"sliding_window_causal_mask({n}, {window}) has {int(mask.sum())} True entries; "
                                      f"the window pattern has sum_i min(i + 1, window) = {total}")
    assert not bool(mask.triu(1).any()), "the sliding window must be causal: no key j > i (nothing above the diagonal)"


# ----------------------------------------------------------------------------------------------------
# strided_sparse_masks
# ----------------------------------------------------------------------------------------------------

@points(5)
def test_strided_masks_hand_built(submission):
    local, strided = expect_tuple(submission.strided_sparse_masks(6, 2), 2, "strided_sparse_masks", "(local, strided)")
    want_local = torch.tensor([[1, 0, 0, 0, 0, 0],
                               [1, 1, 0, 0, 0, 0],
                               [0, 1, 1, 0, 0, 0],
                               [0, 0, 1, 1, 0, 0],
                               [0, 0, 0, 1, 1, 0],
                               [0, 0, 0, 0, 1, 1]], dtype=torch.bool)
    want_strided = torch.tensor([[1, 0, 0, 0, 0, 0],
                                 [0, 1, 0, 0, 0, 0],
                                 [1, 0, 1, 0, 0, 0],
                                 [0, 1, 0, 1, 0, 0],
                                 [1, 0, 1, 0, 1, 0],
                                 [0, 1, 0, 1, 0, 1]], dtype=torch.bool)
    assert_equal(local, want_local, name="local mask (first output) of strided_sparse_masks(6, 2)")
    assert_equal(strided, want_strided, name="strided mask (second output) of strided_sparse_masks(6, 2)",
                 context="(every stride-th key back from i, i included)")


@points(7)
@pytest.mark.parametrize("n,stride", [(1, 1), (6, 1), (10, 3), (16, 4), (7, 9), (11, 2)])
def test_strided_masks_match_reference(submission, reference, n, stride):
    local, strided = expect_tuple(submission.strided_sparse_masks(n, stride), 2, "strided_sparse_masks", "(local, strided)")
    want_local, want_strided = reference.strided_sparse_masks(n, stride)
    assert_equal(local, want_local, name=f"local mask (first output) of strided_sparse_masks({n}, {stride})",
                 context="(local[i, j] = 0 <= i - j < stride)")
    assert_equal(strided, want_strided, name=f"strided mask (second output) of strided_sparse_masks({n}, {stride})",
                 context="(strided[i, j] = (i - j) % stride == 0 and j <= i)")


@points(6)
@pytest.mark.parametrize("n,stride", [(12, 3), (9, 4), (5, 1), (8, 8)])
def test_strided_masks_row_counts_and_causality(submission, n, stride):
    local, strided = expect_tuple(submission.strided_sparse_masks(n, stride), 2, "strided_sparse_masks", "(local, strided)")
    assert_equal(local.sum(dim=1), torch.tensor([min(i + 1, stride) for i in range(n)]),
                 name=f"keys per row of the local mask (n={n}, stride={stride})", context="(min(i + 1, stride))")
    assert_equal(strided.sum(dim=1), torch.tensor([i // stride + 1 for i in range(n)]),
                 name=f"keys per row of the strided mask (n={n}, stride={stride})",
                 context="(j = i, i - stride, i - 2*stride, ... >= 0: i // stride + 1 keys; none in the future)")
    assert not bool(strided.triu(1).any()), "the strided mask must be causal: (i - j) % stride == 0 also holds for future keys j > i"


# ----------------------------------------------------------------------------------------------------
# local_attention
# ----------------------------------------------------------------------------------------------------

def _qkv(rng, B, H, T, D, dtype, logit_scale=1.0):
    q = randn(rng, B, H, T, D, dtype=dtype, scale=logit_scale)
    return q, randn(rng, B, H, T, D, dtype=dtype), randn(rng, B, H, T, D, dtype=dtype)


# (B, H, T, D, window): T = 1, window = 1, T not a multiple of window, window == T, window > T, batch > 1.
ATTN_CASES = [(1, 1, 1, 4, 1), (2, 3, 7, 5, 3), (1, 2, 33, 8, 8), (2, 1, 10, 6, 20), (1, 2, 16, 4, 16),
              (3, 2, 9, 3, 1), (2, 2, 21, 7, 5)]


@points(12)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("B,H,T,D,window", ATTN_CASES)
def test_local_attention_matches_reference(submission, reference, rng, B, H, T, D, window, dtype):
    q, k, v = _qkv(rng, B, H, T, D, dtype, logit_scale=2.0)
    out = submission.local_attention(q, k, v, window)
    assert_close(out, reference.local_attention(q, k, v, window), name="local_attention output", loose=LOOSE,
                 context="for " + describe(q=q, k=k, v=v, window=window)
                 + " (softmax(q k^T / sqrt(D)) over keys i - window < j <= i only)")


@points(6)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("T,window", [(12, 4), (19, 6), (8, 2)])
def test_local_attention_matches_sdpa_with_window_mask(submission, rng, T, window, dtype):
    q, k, v = _qkv(rng, 2, 2, T, 8, dtype, logit_scale=2.0)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=_window_mask(T, window))
    out = submission.local_attention(q, k, v, window)
    assert_close(out, expected, name="local_attention output", loose=LOOSE,
                 context="for " + describe(q=q, k=k, v=v, window=window)
                 + " (compared with F.scaled_dot_product_attention under the boolean window mask)")


@points(5)
@pytest.mark.parametrize("window", [6, 50])
def test_local_attention_with_window_covering_the_sequence_is_causal_attention(submission, rng, window):
    q, k, v = _qkv(rng, 2, 3, 6, 4, torch.float64)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    out = submission.local_attention(q, k, v, window)
    assert_close(out, expected, name="local_attention output", loose=LOOSE,
                 context="for " + describe(q=q, k=k, v=v, window=window)
                 + " (window >= T = 6: plain causal attention, as SDPA(is_causal=True))")


@points(4)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_local_attention_window_1_returns_v(submission, rng, dtype):
    q, k, v = _qkv(rng, 2, 2, 7, 5, dtype, logit_scale=3.0)
    out = submission.local_attention(q, k, v, 1)
    assert_close(out, v, name="local_attention output with window=1",
                 context="for " + describe(q=q, k=k, v=v, window=1)
                 + " (each query sees only its own key, so its softmax weight is 1 and out == v)")


@points(5)
def test_local_attention_matches_a_per_query_loop(submission, rng):
    # Scaled-up logits make the softmax peaked, so a missing 1/sqrt(D) or a wrong window shows clearly.
    B, H, T, D, window = 1, 2, 11, 9, 4
    q, k, v = _qkv(rng, B, H, T, D, torch.float64, logit_scale=3.0)
    expected = torch.empty_like(q)
    for i in range(T):
        lo = max(0, i - window + 1)
        scores = (q[:, :, i:i + 1] @ k[:, :, lo:i + 1].transpose(-1, -2)) / math.sqrt(D)  # [B, H, 1, keys]
        expected[:, :, i] = (torch.softmax(scores, dim=-1) @ v[:, :, lo:i + 1])[:, :, 0]
    out = submission.local_attention(q, k, v, window)
    assert_close(out, expected, name="local_attention output", loose=LOOSE,
                 context="for " + describe(q=q, k=k, v=v, window=window)
                 + " (query i: softmax over keys max(0, i - window + 1)..i of q_i . k_j / sqrt(D), then the "
                 "weighted sum of those v_j)")


NON_CONTIGUOUS_LAYOUTS = ("transposed", "strided last dim", "expanded heads")


def _laid_out(t, layout):
    """``t`` [B, H, T, D] in another memory layout (authoring helper): "transposed" as attention code
    gets it from x.view(B, T, H, D).transpose(1, 2); "strided last dim" via suite.non_contiguous;
    "expanded heads": head 0 broadcast over H (stride 0), as a grouped-query K/V is."""
    if layout == "transposed":
        return t.transpose(1, 2).contiguous().transpose(1, 2)
    if layout == "strided last dim":
        return non_contiguous(t)
    return t[:, :1].expand(t.shape)


@points(6)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", NON_CONTIGUOUS_LAYOUTS)
def test_local_attention_non_contiguous_inputs(submission, reference, rng, layout, dtype):
    q, k, v = (_laid_out(t, layout) for t in _qkv(rng, 2, 3, 10, 4, dtype, logit_scale=2.0))
    out = submission.local_attention(q, k, v, 3)
    assert_close(out, reference.local_attention(q, k, v, 3), name="local_attention output", loose=LOOSE,
                 context="for " + describe(q=q, k=k, v=v, window=3)
                 + " (q, k and v may be non-contiguous: use .reshape, not .view)")


@points(12)
@rule("never build a [T, T] tensor")
@pytest.mark.parametrize("size", ["T near 2048", "T up to 8191"])
def test_local_attention_memory_grows_with_T_not_T_squared(submission, reference, rng, size):
    # Every long call runs under an OS limit on the worker's memory, at a size drawn fresh each run from
    # one range (a kernel cannot tell a checked call from another): a [T, T] tensor cannot fit,
    # whatever the trace says; the trace, where honest, says which op built it.
    low, high = (2048, 2112) if size == "T near 2048" else (2112, 8192)  # the rule's size, and beyond
    T, D = int(torch.randint(low, high, (1,), generator=rng)), 8
    window = int(torch.randint(16, 48, (1,), generator=rng))
    q, k, v = _qkv(rng, 1, 1, T, D, torch.float32)
    out = call_within_memory(submission, "local_attention", q, k, v, window, square_bytes=T * T * 4,
                             what=f"T={T}, window={window}, float32")
    assert_no_square_intermediate(submission.last.trace, "local_attention", T)
    assert_close(out, reference.local_attention(q, k, v, window), name="local_attention output", loose=LOOSE,
                 context=f"(T={T}, window={window})")


# ----------------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------------

@points(7)
@pytest.mark.parametrize("function", ["sliding_window_causal_mask", "local_attention"])
@pytest.mark.parametrize("window", [0, -3])
def test_rejects_window_below_1(submission, rng, function, window):
    q, k, v = _qkv(rng, 1, 1, 4, 2, torch.float32)
    with expect_value_error("window"):
        if function == "local_attention":
            submission.local_attention(q, k, v, window)
        else:
            submission.sliding_window_causal_mask(4, window)


@points(6)
@pytest.mark.parametrize("stride", [0, -1])
def test_rejects_stride_below_1(submission, stride):
    with expect_value_error("stride"):
        submission.strided_sparse_masks(5, stride)
