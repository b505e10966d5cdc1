"""Hidden suite for question 58 (flash-attention). Runs in the trusted process; see quizgen.grading.suite.

Both outputs (out and lse) are compared with the reference and with an independent peer computed here:
F.scaled_dot_product_attention under an explicit bottom-right boolean mask, and torch.logsumexp of the
masked, scaled scores. Queries are scaled up (x3) so that the running max changes from one key block to
the next, which exposes a missing rescale of the accumulator or of the running sum. Block sizes run from
1 to larger than T (results must not depend on them), T is rarely a multiple of the block, Tq != Tk in
both directions, and causal tiles that are wholly masked must not produce NaN. A hand-built case with
q = 0 and v = I reads off exactly which keys each query sees (bottom-right alignment). Every call is
checked for fused attention ops (a kernel may not fall back to SDPA even for one small tile; the worker's
fused kernels also raise, so no trick reaches them). The memory rule is checked at sizes drawn fresh each
run from one range, T = 2048-8191, under an OS memory limit where a [T, T] tensor cannot fit in the worker
whatever the trace says; the trace names the op that built one. float64 cases use float64 tolerances
(a kernel that computes its tiles in float32 fails them), the defaults (64 x 64 blocks, causal=False) are
used on a sequence longer than one block, q, k and v also arrive non-contiguous (heads transposed out
of a [B, T, H, D] projection, as attention layers produce them), and scores near +-800 show a kernel that
exponentiates without subtracting the running max.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    assert_close,
    assert_no_fused_attention,
    assert_no_square_intermediate,
    call_within_memory,
    describe,
    expect_tuple,
    expect_value_error,
    explained,
    points,
    randn,
    rule,
)

LOOSE = 8.0  # a tiled kernel sums and rescales in another order than the reference and the peer


def _bottom_right_mask(Tq, Tk):
    """True where query i may see key j: j <= i + Tk - Tq (flash-attn >= 2.1; SDPA's is_causal is top-left)."""
    return torch.arange(Tk)[None, :] <= torch.arange(Tq)[:, None] + (Tk - Tq)


def _peer(q, k, v, causal):
    """Independent expected values: SDPA with an explicit boolean mask, and logsumexp of the scores."""
    Tq, Tk, D = q.shape[2], k.shape[2], q.shape[3]
    mask = _bottom_right_mask(Tq, Tk) if causal else None
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask), torch.logsumexp(scores, dim=-1)


def _qkv(rng, B, H, Tq, Tk, D, dtype, q_scale=3.0):
    q = randn(rng, B, H, Tq, D, dtype=dtype, scale=q_scale)
    return q, randn(rng, B, H, Tk, D, dtype=dtype), randn(rng, B, H, Tk, D, dtype=dtype)


def _inputs(q, k, v, *args, **kwargs):
    named = dict(zip(("block_q", "block_k", "causal"), args)) | kwargs
    return describe(q=q, k=k, v=v, **named)


def _check(out, lse, want_out, want_lse, context):
    if not (isinstance(out, torch.Tensor) and isinstance(lse, torch.Tensor)):
        raise AssertionError("flash_attention_forward must return a tuple (out, lse) of two tensors, got "
                             f"({type(out).__name__}, {type(lse).__name__})")
    assert_close(out, want_out, name="out", loose=LOOSE, context=context)
    with explained("lse = logsumexp over the visible keys of the scaled scores, i.e. m + log(l) in natural log, "
                   "in q's dtype."):
        assert_close(lse, want_lse, name="lse", loose=LOOSE, context=context)


def _run(submission, *args, **kwargs):
    """Call the submission, reject fused attention ops on every call, and unpack (out, lse)."""
    value = submission.flash_attention_forward(*args, **kwargs)
    assert_no_fused_attention(submission.last.trace, "flash_attention_forward")
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise AssertionError(f"flash_attention_forward must return a tuple (out, lse), got {type(value).__name__}"
                             + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    return value


# (B, H, Tq, Tk, D, block_q, block_k, causal)
CASES = [
    (1, 1, 50, 50, 8, 16, 16, False),   # facts.md: T = 50, blocks of 16 (T not a multiple of the block)
    (1, 1, 50, 50, 8, 16, 16, True),
    (2, 3, 3, 7, 4, 2, 3, True),        # Tq < Tk causal: bottom-right alignment
    (2, 2, 7, 3, 5, 4, 2, False),       # Tq > Tk (non-causal only)
    (1, 2, 1, 1, 4, 64, 64, True),      # a single query and key
    (2, 1, 33, 20, 6, 8, 8, False),
    (1, 1, 17, 40, 8, 5, 7, True),
]


@points(16)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("B,H,Tq,Tk,D,block_q,block_k,causal", CASES)
def test_flash_attention_matches_reference(submission, reference, rng, B, H, Tq, Tk, D, block_q, block_k, causal, dtype):
    q, k, v = _qkv(rng, B, H, Tq, Tk, D, dtype)
    out, lse = _run(submission, q, k, v, block_q, block_k, causal)
    want_out, want_lse = reference.flash_attention_forward(q, k, v, block_q, block_k, causal)
    _check(out, lse, want_out, want_lse, _inputs(q, k, v, block_q, block_k, causal))


@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("Tq,Tk,causal", [(50, 50, True), (50, 50, False), (3, 7, True), (20, 45, True), (29, 11, False)])
def test_flash_attention_matches_sdpa_and_logsumexp(submission, rng, Tq, Tk, causal, dtype):
    q, k, v = _qkv(rng, 2, 2, Tq, Tk, 8, dtype)
    out, lse = _run(submission, q, k, v, 16, 16, causal)
    want_out, want_lse = _peer(q, k, v, causal)
    _check(out, lse, want_out, want_lse,
           f"(compared with F.scaled_dot_product_attention{' under the bottom-right causal mask' if causal else ''}; "
           f"{_inputs(q, k, v, 16, 16, causal)})")


@points(10)
@pytest.mark.parametrize("block_q,block_k", [(1, 1), (1, 64), (64, 1), (7, 5), (16, 16), (4, 32), (200, 300)])
def test_flash_attention_does_not_depend_on_block_sizes(submission, block_q, block_k):
    rng = torch.Generator().manual_seed(58)  # the same inputs for every block size
    q, k, v = _qkv(rng, 1, 2, 13, 21, 8, torch.float64)
    want_out, want_lse = _peer(q, k, v, True)
    out, lse = _run(submission, q, k, v, block_q, block_k, True)
    _check(out, lse, want_out, want_lse,
           f"(Tq=13, Tk=21, causal, block_q={block_q}, block_k={block_k}: every block size must give the same "
           "attention; blocks larger than T are one tile)")


@points(10)
@pytest.mark.parametrize("block_q,block_k", [(2, 3), (1, 1), (64, 64)])
def test_flash_attention_causal_aligns_bottom_right(submission, block_q, block_k):
    # q = 0 makes every visible key equally likely and v = I reads off which keys those are:
    # out[i, j] = 1 / (i + 5) for j <= i + Tk - Tq = i + 4, else 0; lse[i] = log(i + 5).
    Tq, Tk = 3, 7
    q = torch.zeros(1, 1, Tq, Tk, dtype=torch.float64)
    k = torch.linspace(-1.0, 1.0, Tk * Tk, dtype=torch.float64).reshape(1, 1, Tk, Tk)
    v = torch.eye(Tk, dtype=torch.float64)[None, None]
    visible = _bottom_right_mask(Tq, Tk).to(torch.float64)
    want_out = (visible / visible.sum(dim=-1, keepdim=True))[None, None]
    want_lse = torch.log(torch.tensor([5.0, 6.0, 7.0], dtype=torch.float64))[None, None]
    out, lse = _run(submission, q, k, v, block_q, block_k, True)
    _check(out, lse, want_out, want_lse,
           "(Tq=3, Tk=7, causal: query i sees keys j <= i + Tk - Tq, i.e. 5, 6 and 7 keys (bottom-right, as "
           "flash-attn >= 2.1), not j <= i (top-left, SDPA's is_causal))")


@points(5)
@pytest.mark.parametrize("Tq,Tk,block_q,block_k", [(40, 40, 4, 4), (5, 37, 2, 4), (24, 24, 8, 1)])
def test_flash_attention_fully_masked_tiles_give_no_nan(submission, rng, Tq, Tk, block_q, block_k):
    q, k, v = _qkv(rng, 2, 1, Tq, Tk, 6, torch.float64)
    out, lse = _run(submission, q, k, v, block_q, block_k, True)
    want_out, want_lse = _peer(q, k, v, True)
    _check(out, lse, want_out, want_lse,
           f"(causal, Tq={Tq}, Tk={Tk}, blocks {block_q}x{block_k}: many tiles lie wholly in the masked future and "
           "must add nothing; if NaN appears, guard rows whose running max is still -inf: exp(-inf - (-inf)) is NaN)")


@points(5)
@pytest.mark.parametrize("growing", [True, False])
def test_flash_attention_running_max_changes_between_blocks(submission, rng, growing):
    # Key norms grow (or shrink) along the sequence, so each new key block raises the running max
    # (or never does): the accumulator and the running sum must both be rescaled by exp(m_old - m_new).
    T, D = 48, 8
    q = randn(rng, 1, 2, T, D, dtype=torch.float64, scale=3.0)
    ramp = torch.linspace(0.2, 4.0, T, dtype=torch.float64)
    ramp = ramp if growing else ramp.flip(0)
    k = randn(rng, 1, 2, T, D, dtype=torch.float64) * ramp[:, None]
    v = randn(rng, 1, 2, T, D, dtype=torch.float64)
    out, lse = _run(submission, q, k, v, 8, 8, False)
    want_out, want_lse = _peer(q, k, v, False)
    _check(out, lse, want_out, want_lse,
           f"(key norms {'grow' if growing else 'shrink'} along T, blocks of 8: the running max "
           f"{'rises at every block' if growing else 'is set by the first block'})")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("Tq,Tk", [(150, 150), (70, 200)])
def test_flash_attention_defaults_are_64_by_64_blocks_and_not_causal(submission, rng, Tq, Tk, dtype):
    # Called with q, k, v only: the defaults block_q=64, block_k=64, causal=False over several tiles.
    q, k, v = _qkv(rng, 1, 2, Tq, Tk, 8, dtype)
    out, lse = _run(submission, q, k, v)
    want_out, want_lse = _peer(q, k, v, False)
    with explained("The defaults are block_q=64, block_k=64 and causal=False: every query sees every key."):
        _check(out, lse, want_out, want_lse, "(called as flash_attention_forward(q, k, v); " + _inputs(q, k, v) + ")")


@points(6)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("causal", [False, True])
def test_flash_attention_non_contiguous_inputs(submission, rng, causal, dtype):
    # q, k, v as attention layers make them: a [B, T, H, D] projection with the heads transposed out.
    B, H, Tq, Tk, D = 2, 3, 21, 37, 8
    q = randn(rng, B, Tq, H, D, dtype=dtype, scale=3.0).transpose(1, 2)
    k, v = (randn(rng, B, Tk, H, D, dtype=dtype).transpose(1, 2) for _ in range(2))
    out, lse = _run(submission, q, k, v, 8, 16, causal)
    want_out, want_lse = _peer(q, k, v, causal)
    with explained("q, k and v may be non-contiguous views ([B, T, H, D] transposed to [B, H, T, D]): use "
                   ".reshape or index them, not .view."):
        _check(out, lse, want_out, want_lse, _inputs(q, k, v, 8, 16, causal))


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("causal", [False, True])
def test_flash_attention_large_scores_do_not_overflow(submission, rng, causal, dtype):
    # Scores near +-800: exp(800) overflows float32 and float64; exp(S - m) with the running max does not.
    q, k, v = _qkv(rng, 1, 2, 19, 29, 4, dtype, q_scale=1.0)
    q = q / q.norm(dim=-1, keepdim=True) * 40.0
    k = k / k.norm(dim=-1, keepdim=True) * 40.0
    out, lse = _run(submission, q, k, v, 8, 8, causal)
    want_out, want_lse = _peer(q, k, v, causal)
    with explained("Scores reach about +-800 here: exponentiate S - m (the running max), never S itself."):
        _check(out, lse, want_out, want_lse, _inputs(q, k, v, 8, 8, causal))


@points(14)
@rule("never build a [Tq, Tk] tensor")
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("size", ["T near 2048", "T up to 8191"])
def test_flash_attention_memory_grows_with_T_not_T_squared(submission, reference, rng, size, causal):
    # Every long call runs under an OS limit on the worker's memory, at a size drawn fresh each run from
    # one range (a kernel cannot tell a checked call from another): a [T, T] tensor cannot fit, whatever
    # the trace says; the trace, where honest, names the op that built it. Blocks of 256-512 keep a
    # Python loop over tiles quick.
    low, high = (2048, 2112) if size == "T near 2048" else (2112, 8192)  # the rule's size, and beyond
    T, D = int(torch.randint(low, high, (1,), generator=rng)), 8
    block_q, block_k = (int(b) for b in torch.randint(256, 513, (2,), generator=rng))
    q, k, v = _qkv(rng, 1, 1, T, T, D, torch.float32, q_scale=1.0)
    value = call_within_memory(submission, "flash_attention_forward", q, k, v, block_q, block_k, causal,
                               square_bytes=T * T * 4, what=f"T={T}, blocks {block_q} x {block_k}, float32")
    out, lse = expect_tuple(value, 2, "flash_attention_forward", "(out, lse)")
    assert_no_fused_attention(submission.last.trace, "flash_attention_forward")
    assert_no_square_intermediate(submission.last.trace, "flash_attention_forward", T)
    want_out, want_lse = (t.to(torch.float32) for t in
                          reference.flash_attention_forward(q.double(), k.double(), v.double(), 1024, 1024, causal))
    _check(out, lse, want_out, want_lse, f"(T={T}, blocks {block_q} x {block_k}, causal={causal})")


# ----------------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------------

@points(4)
@pytest.mark.parametrize("Tq,Tk", [(5, 4), (8, 1)])
def test_rejects_causal_with_Tq_above_Tk(submission, rng, Tq, Tk):
    q, k, v = _qkv(rng, 1, 1, Tq, Tk, 4, torch.float32)
    with explained(f"causal=True with Tq={Tq} > Tk={Tk} must raise ValueError (bottom-right alignment needs Tq <= Tk)."), expect_value_error("causal", "Tq", "Tk", "q", "k"):
        submission.flash_attention_forward(q, k, v, 4, 4, True)


@points(5)
@pytest.mark.parametrize("block_q,block_k,name", [(0, 4, "block_q"), (-2, 4, "block_q"), (4, 0, "block_k"),
                                                  (4, -1, "block_k")])
def test_rejects_block_sizes_below_1(submission, rng, block_q, block_k, name):
    q, k, v = _qkv(rng, 1, 1, 6, 6, 4, torch.float32)
    with explained(f"{name}={block_q if name == 'block_q' else block_k} must raise ValueError naming {name}."), expect_value_error(name):
        submission.flash_attention_forward(q, k, v, block_q, block_k, False)


@points(5)
@pytest.mark.parametrize("tensor,dim", [("k", "B"), ("k", "H"), ("k", "D"), ("v", "B"), ("v", "H"), ("v", "D")])
def test_rejects_mismatched_B_H_or_D(submission, rng, tensor, dim):
    shape = {"B": 2, "H": 3, "T": 5, "D": 4}
    q = randn(rng, 2, 3, 5, 4, dtype=torch.float32)
    bad = dict(shape, **{dim: shape[dim] + 1})
    other = randn(rng, bad["B"], bad["H"], bad["T"], bad["D"], dtype=torch.float32)
    good = randn(rng, 2, 3, 5, 4, dtype=torch.float32)
    k, v = (other, good) if tensor == "k" else (good, other)
    with explained(f"q [2, 3, 5, 4] with {tensor} {list(other.shape)}: {dim} differs, which must raise ValueError."), expect_value_error("q", "k", "v", "B", "H", "D"):
        submission.flash_attention_forward(q, k, v, 4, 4, False)
