"""Hidden suite for question 51 (architectures). Runs in the trusted process; see quizgen.grading.suite.

Three kinds of checks per function: the reference (on seeded random inputs over odd shapes, float32 and
float64), an independent peer (F.rms_norm, complex-number RoPE, hand-written SiLU, SDPA's enable_gqa), and
exact invariants that need no reference (RoPE keeps each pair's norm and makes <rope(q, m), rope(k, n)>
depend on m - n only; repeat_kv copies kv head h // n_rep). Hand-built cases pin the conventions.

Every default is used where it matters (eps = 1e-6 on activations of size 1e-3, where 1e-5 is 10x
mean(x**2); theta = 10000 with D >= 4), and every tensor input also arrives non-contiguous: transposed
from the [B, T, H, D] layout attention code produces, with a strided last dim (where `.view` raises),
and expanded (stride 0). float64 cases use float64 tolerances (rtol 1e-9): computing in float32 and
casting back is off by ~1e-7 and fails on every seed.

float32 RoPE comparisons use loose=8: the contract allows angles computed "accurately enough", and
Meta's own float32 angles (torch.polar in float32) are ~3x the default float32 tolerance off at
positions just below 300. Every wrong pairing, sign or frequency is off by O(1).
"""

import math

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    assert_close,
    describe,
    expect_value_error,
    explained,
    non_contiguous,
    points,
    randn,
)

ROPE_F32_LOOSE = 8.0
LAYOUTS = ("transposed", "strided last dim", "expanded")


def _rope_loose(dtype):
    return ROPE_F32_LOOSE if dtype == torch.float32 else 1.0


def _laid_out(t: torch.Tensor, layout: str) -> torch.Tensor:
    """``t``'s values in another memory layout (authoring helper: suite.non_contiguous covers only the
    strided one). "transposed": dims 1 and 2 of a [B, T, H, D]-ordered copy swapped into place, as
    q.view(B, T, H, D).transpose(1, 2) gives; "strided last dim": suite.non_contiguous; "expanded": a
    leading dim of size 1 broadcast (stride 0), so that the values repeat along it."""
    if layout == "transposed":
        if t.dim() < 3:
            return t.t().contiguous().t() if t.dim() == 2 else non_contiguous(t)
        return t.transpose(-3, -2).contiguous().transpose(-3, -2)
    if layout == "strided last dim":
        return non_contiguous(t)
    if layout == "expanded":
        return t[:1].expand(t.shape)
    raise ValueError(layout)


def _strided_positions(positions: torch.Tensor) -> torch.Tensor:
    return non_contiguous(positions)


# ----------------------------------------------------------------------------------------------------
# rms_norm
# ----------------------------------------------------------------------------------------------------

# shapes of x: 2-D and 3-D (non-square, so a norm over the wrong dim changes the result), last dim 1 and odd.
RMS_SHAPES = [(1, 1), (5, 7), (2, 3, 16), (4, 6, 9), (3, 2, 1)]


@points(5)
def test_rms_norm_eps_is_inside_the_square_root(submission):
    # |x| ~ 1e-3, so mean(x**2) ~ 1e-6 is the size of eps: eps outside the sqrt is off by ~40%.
    x = torch.tensor([[1e-3, -2e-3, 1.5e-3, 0.5e-3], [0.0, 0.0, 0.0, 0.0], [3.0, -1.0, 2.0, 0.5]], dtype=torch.float64)
    weight = torch.tensor([1.0, 2.0, -0.5, 1.5], dtype=torch.float64)
    eps = 1e-6
    expected = x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * weight
    out = submission.rms_norm(x, weight, eps)
    assert_close(out, expected, name="rms_norm output", context="for " + describe(x=x, weight=weight, eps=eps)
                 + " (x / sqrt(mean(x**2) + eps) * weight: eps goes inside the square root; an all-zero row stays 0)")


@points(4)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_rms_norm_default_eps_is_1e_minus_6(submission, rng, dtype):
    # Activations of size 1e-3: mean(x**2) ~ 1e-6, the size of eps, so the default's value shows.
    x = randn(rng, 4, 24, dtype=dtype, scale=1e-3)
    weight = randn(rng, 24, dtype=dtype, shift=1.0)
    out = submission.rms_norm(x, weight)
    with explained("rms_norm(x, weight) without eps uses the default eps = 1e-6 (LLaMA's); 1e-5 (Llama 2's "
                   "config value) or torch's finfo.eps change the result when mean(x**2) is about 1e-6"):
        assert_close(out, x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * weight,
                     name="rms_norm output with the default eps", context="for " + describe(x=x, weight=weight))


@points(7)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("eps", [1e-6, 1e-5])
@pytest.mark.parametrize("shape", RMS_SHAPES)
def test_rms_norm_matches_reference(submission, reference, rng, shape, eps, dtype):
    x = randn(rng, *shape, dtype=dtype, scale=3.0, shift=1.5)  # rows with a non-zero mean
    weight = randn(rng, shape[-1], dtype=dtype, shift=1.0)
    out = submission.rms_norm(x, weight, eps)
    assert_close(out, reference.rms_norm(x, weight, eps), name="rms_norm output",
                 context="for " + describe(x=x, weight=weight, eps=eps)
                 + " (normalize over the last dim only, no mean subtraction)")


@points(3)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(6, 10), (2, 5, 64)])
def test_rms_norm_matches_torch_rms_norm(submission, rng, shape, dtype):
    x = randn(rng, *shape, dtype=dtype, scale=2.0, shift=-1.0)
    weight = randn(rng, shape[-1], dtype=dtype)
    out = submission.rms_norm(x, weight, 1e-6)
    assert_close(out, F.rms_norm(x, (shape[-1],), weight, 1e-6), name="rms_norm output",
                 context="for " + describe(x=x, weight=weight, eps=1e-6) + " (compared with torch.nn.functional.rms_norm)")


@points(4)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_rms_norm_has_unit_rms_and_keeps_the_mean(submission, rng, dtype):
    # eps = 0 and weight = 1: every output row has mean(out**2) == 1, scaling x changes nothing, and a
    # constant row c stays sign(c) (LayerNorm would subtract the mean and return 0).
    x = randn(rng, 7, 11, dtype=dtype, scale=2.0, shift=1.0)
    ones = torch.ones(11, dtype=dtype)
    out = submission.rms_norm(x, ones, 0.0)
    assert_close((out * out).mean(dim=-1), torch.ones(7, dtype=dtype), name="mean(out**2) per row", loose=4.0,
                 context="for " + describe(x=x, eps=0.0) + " (with weight 1 and eps 0 every row has root-mean-square 1)")
    scaled = submission.rms_norm(x * 8.0, ones, 0.0)
    assert_close(scaled, out, name="rms_norm(8 * x)", loose=4.0, context="(RMSNorm is scale invariant when eps = 0)")
    constant = torch.tensor([[2.5] * 5, [-0.75] * 5], dtype=dtype)
    assert_close(submission.rms_norm(constant, torch.ones(5, dtype=dtype), 0.0),
                 torch.tensor([[1.0] * 5, [-1.0] * 5], dtype=dtype), name="rms_norm of constant rows",
                 context="(RMSNorm subtracts no mean: a constant row c becomes sign(c))")


@points(4)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_rms_norm_non_contiguous_inputs(submission, reference, rng, layout, dtype):
    x = _laid_out(randn(rng, 3, 5, 12, dtype=dtype, scale=2.0, shift=0.5), layout)
    weight = non_contiguous(randn(rng, 12, dtype=dtype, shift=1.0))
    out = submission.rms_norm(x, weight, 1e-6)
    assert_close(out, reference.rms_norm(x, weight, 1e-6), name="rms_norm output",
                 context="for " + describe(x=x, weight=weight) + " (use .reshape, not .view: inputs may be non-contiguous)")


# ----------------------------------------------------------------------------------------------------
# apply_rope
# ----------------------------------------------------------------------------------------------------

def _complex_rope(x, positions, theta):
    """Meta's formulation, in float64: (x_2i + i x_2i+1) * exp(i * pos * theta**(-2i/D))."""
    D = x.shape[-1]
    freqs = 1.0 / theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D)
    angles = torch.outer(positions.to(torch.float64), freqs)
    rotation = torch.polar(torch.ones_like(angles), angles)
    xc = torch.view_as_complex(x.to(torch.float64).reshape(*x.shape[:-1], D // 2, 2).contiguous())
    return torch.view_as_real(xc * rotation).flatten(-2).to(x.dtype)


def _positions(rng, T, high):
    # Random, non-monotonic positions (a decode step or a packed batch), with position 0 included.
    positions = torch.randint(0, high, (T,), generator=rng, dtype=torch.int64)
    positions[torch.randint(0, T, (1,), generator=rng)] = 0
    return positions


# (leading dims, T, D): 2-D, 3-D and 4-D x, D = 2 and D/2 odd, T = 1.
ROPE_SHAPES = [((), 5, 8), ((2, 3), 7, 6), ((3,), 1, 2), ((2, 1), 9, 16), ((), 4, 10)]


@points(5)
def test_apply_rope_hand_built_rotations(submission):
    # D = 2: the single pair is rotated by exactly `position` radians, counter-clockwise.
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.6, -0.8]], dtype=torch.float64)
    positions = torch.tensor([0, 1, 2, 3])
    expected = torch.tensor([[1.0, 0.0], [math.cos(1), math.sin(1)], [-math.sin(2), math.cos(2)],
                             [0.6 * math.cos(3) + 0.8 * math.sin(3), 0.6 * math.sin(3) - 0.8 * math.cos(3)]],
                            dtype=torch.float64)
    assert_close(submission.apply_rope(x, positions, 10000.0), expected, name="apply_rope with D=2",
                 context="for " + describe(x=x, positions=positions)
                 + " (position p rotates the pair (x0, x1) by +p radians: (x0 cos p - x1 sin p, x0 sin p + x1 cos p); "
                 "position 0 is the identity)")
    # D = 4, theta = 10000: pair 0 turns by p, pair 1 by p * 10000**(-2/4) = p / 100 (adjacent elements pair up).
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0], [0.0, 2.0, 0.0, 3.0]], dtype=torch.float64)
    positions = torch.tensor([0, 50, 7])
    expected = torch.tensor([[1.0, 0.0, 1.0, 0.0],
                             [math.cos(50), math.sin(50), math.cos(0.5), math.sin(0.5)],
                             [-2 * math.sin(7), 2 * math.cos(7), -3 * math.sin(0.07), 3 * math.cos(0.07)]],
                            dtype=torch.float64)
    assert_close(submission.apply_rope(x, positions, 10000.0), expected, name="apply_rope with D=4",
                 context="inputs: x [3, 4] float64 = " + str(x.tolist()) + f", positions = {positions.tolist()}"
                 + " (pair i = (2i, 2i+1) turns by p * theta**(-2i/D): pair 1 of D=4 by p/100)")


@points(8)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("theta", [10000.0, 500000.0])
@pytest.mark.parametrize("lead,T,D", ROPE_SHAPES)
def test_apply_rope_matches_reference(submission, reference, rng, lead, T, D, theta, dtype):
    x = randn(rng, *lead, T, D, dtype=dtype)
    positions = _positions(rng, T, 300)
    out = submission.apply_rope(x, positions, theta)
    assert_close(out, reference.apply_rope(x, positions, theta), name="apply_rope output", loose=_rope_loose(dtype),
                 context="for " + describe(x=x, positions=positions, theta=theta)
                 + " (interleaved pairs (2i, 2i+1) rotated by positions[t] * theta**(-2i/D))")


@points(5)
@pytest.mark.parametrize("lead,T,D", [((), 6, 8), ((2, 2), 5, 12)])
def test_apply_rope_float64_at_large_positions(submission, reference, rng, lead, T, D):
    x = randn(rng, *lead, T, D, dtype=torch.float64)
    positions = _positions(rng, T, 10_000)
    positions[-1] = 9_999
    out = submission.apply_rope(x, positions, 10000.0)
    assert_close(out, reference.apply_rope(x, positions, 10000.0), name="apply_rope output",
                 context="for " + describe(x=x, positions=positions, theta=10000.0)
                 + " (float64, positions up to 9999: compute the angles in float64; float32 angles are ~1e-3 rad off there)")


@points(3)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_apply_rope_matches_complex_multiplication(submission, rng, dtype):
    x = randn(rng, 2, 3, 7, 8, dtype=dtype)
    positions = _positions(rng, 7, 300)
    out = submission.apply_rope(x, positions, 10000.0)
    assert_close(out, _complex_rope(x, positions, 10000.0), name="apply_rope output", loose=_rope_loose(dtype),
                 context="for " + describe(x=x, positions=positions)
                 + " (compared with Meta's complex form: view_as_complex(x pairs) * polar(1, angle))")


@points(3)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_apply_rope_default_theta_is_10000(submission, rng, dtype):
    x = randn(rng, 2, 6, 8, dtype=dtype)
    positions = _positions(rng, 6, 300)
    out = submission.apply_rope(x, positions)
    with explained("apply_rope(x, positions) without theta uses the default theta = 10000.0 (LLaMA 1 and 2; "
                   "Llama 3's 500000 is passed explicitly)"):
        assert_close(out, _complex_rope(x, positions, 10000.0), name="apply_rope output with the default theta",
                     loose=_rope_loose(dtype), context="for " + describe(x=x, positions=positions))


@points(3)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_apply_rope_preserves_the_norm_of_each_pair(submission, rng, dtype):
    x = randn(rng, 3, 9, 12, dtype=dtype)
    positions = _positions(rng, 9, 300)
    out = submission.apply_rope(x, positions, 10000.0)
    pair_norm = lambda t: t.reshape(*t.shape[:-1], -1, 2).norm(dim=-1)
    assert_close(pair_norm(out), pair_norm(x), name="norm of each pair (2i, 2i+1)", loose=4.0,
                 context="for " + describe(x=x, positions=positions)
                 + " (RoPE rotates each adjacent pair, so every pair keeps its length)")


@points(4)
@pytest.mark.parametrize("D", [8, 14])
def test_apply_rope_dot_product_depends_only_on_relative_position(submission, rng, D):
    T = 9
    q, k = randn(rng, D, dtype=torch.float64), randn(rng, D, dtype=torch.float64)
    Q, K = q.expand(T, D).clone(), k.expand(T, D).clone()
    m = torch.randint(0, 5000, (T,), generator=rng)
    n = torch.randint(0, 5000, (T,), generator=rng)
    shift = torch.randint(1, 5000, (T,), generator=rng)
    dots = (submission.apply_rope(Q, m, 10000.0) * submission.apply_rope(K, n, 10000.0)).sum(-1)
    shifted = (submission.apply_rope(Q, m + shift, 10000.0) * submission.apply_rope(K, n + shift, 10000.0)).sum(-1)
    assert_close(shifted, dots, name="<rope(q, m + s), rope(k, n + s)>", loose=10.0,
                 context=f"(must equal <rope(q, m), rope(k, n)>: it depends only on m - n; q, k [{T}, {D}] float64 "
                         f"(one vector repeated), m={m.tolist()}, n={n.tolist()}, s={shift.tolist()})")


@points(4)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_apply_rope_non_contiguous_inputs(submission, reference, rng, layout, dtype):
    # x as attention code passes it: [B, H, T, D] transposed from [B, T, H, D]; positions strided too.
    x = _laid_out(randn(rng, 2, 3, 5, 8, dtype=dtype), layout)
    positions = _strided_positions(_positions(rng, 5, 300))
    out = submission.apply_rope(x, positions, 10000.0)
    assert_close(out, reference.apply_rope(x, positions, 10000.0), name="apply_rope output", loose=_rope_loose(dtype),
                 context="for " + describe(x=x, positions=positions)
                 + " (use .reshape or slicing, not .view: inputs may be non-contiguous)")


@points(4)
@pytest.mark.parametrize("D", [5, 1])
def test_apply_rope_rejects_odd_D(submission, rng, D):
    x = randn(rng, 2, 3, D, dtype=torch.float32)
    with expect_value_error("x", "D"):
        submission.apply_rope(x, torch.arange(3), 10000.0)


# ----------------------------------------------------------------------------------------------------
# swiglu_ffn
# ----------------------------------------------------------------------------------------------------

def _ffn_weights(rng, d, h, dtype):
    w1 = randn(rng, h, d, dtype=dtype, scale=d ** -0.5)
    w2 = randn(rng, d, h, dtype=dtype, scale=h ** -0.5)
    w3 = randn(rng, h, d, dtype=dtype, scale=d ** -0.5)
    return w1, w2, w3


@points(7)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("lead,d,h", [((1,), 4, 4), ((7,), 8, 22), ((2, 5), 6, 16), ((3, 1, 4), 12, 9)])
def test_swiglu_ffn_matches_reference(submission, reference, rng, lead, d, h, dtype):
    x = randn(rng, *lead, d, dtype=dtype, scale=2.0)
    w1, w2, w3 = _ffn_weights(rng, d, h, dtype)
    out = submission.swiglu_ffn(x, w1, w2, w3)
    assert_close(out, reference.swiglu_ffn(x, w1, w2, w3), name="swiglu_ffn output", loose=4.0,
                 context="for " + describe(x=x, w1=w1, w2=w2, w3=w3) + " ((silu(x @ w1.T) * (x @ w3.T)) @ w2.T)")


@points(4)
def test_swiglu_ffn_silu_is_on_the_w1_branch(submission, rng):
    d, h = 6, 10
    x = randn(rng, 5, d, dtype=torch.float64, scale=2.0)
    w1, w2, w3 = _ffn_weights(rng, d, h, torch.float64)
    gate, up = F.linear(x, w1), F.linear(x, w3)
    expected = F.linear(gate * torch.sigmoid(gate) * up, w2)
    out = submission.swiglu_ffn(x, w1, w2, w3)
    assert_close(out, expected, name="swiglu_ffn output", context="for " + describe(x=x, w1=w1, w2=w2, w3=w3)
                 + " (w2(silu(w1 x) * w3 x): SiLU(a) = a * sigmoid(a) on the w1 branch, w3 is the linear branch)")


@points(4)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_swiglu_ffn_non_contiguous_inputs(submission, reference, rng, layout, dtype):
    # Weights stored transposed ([in, out] then .T), as checkpoints in fan_in_fan_out layout are.
    d, h = 8, 14
    x = _laid_out(randn(rng, 3, 4, d, dtype=dtype, scale=2.0), layout)
    w1, w2, w3 = (w.T.contiguous().T for w in _ffn_weights(rng, d, h, dtype))
    out = submission.swiglu_ffn(x, w1, w2, w3)
    assert_close(out, reference.swiglu_ffn(x, w1, w2, w3), name="swiglu_ffn output", loose=4.0,
                 context="for " + describe(x=x, w1=w1, w2=w2, w3=w3) + " (inputs may be non-contiguous)")


# ----------------------------------------------------------------------------------------------------
# repeat_kv
# ----------------------------------------------------------------------------------------------------

REPEAT_CASES = [(1, 2, 5, 4, 3), (2, 3, 7, 6, 2), (3, 1, 4, 8, 4), (2, 4, 3, 2, 1), (1, 2, 1, 3, 5)]


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("B,Hkv,T,D,n_rep", REPEAT_CASES)
def test_repeat_kv_matches_reference(submission, reference, rng, B, Hkv, T, D, n_rep, dtype):
    kv = randn(rng, B, Hkv, T, D, dtype=dtype)
    out = submission.repeat_kv(kv, n_rep)
    assert_close(out, reference.repeat_kv(kv, n_rep), name="repeat_kv output", rtol=0.0, atol=0.0,
                 context="for " + describe(kv=kv, n_rep=n_rep) + " (repeat_interleave over heads)")


@points(5)
def test_repeat_kv_query_head_h_reads_kv_head_h_div_n_rep(submission, rng):
    # 6 query heads on 2 distinct kv heads: heads 0, 1, 2 read kv head 0; heads 3, 4, 5 read kv head 1.
    B, Hkv, T, D, n_rep = 2, 2, 3, 4, 3
    kv = randn(rng, B, Hkv, T, D, dtype=torch.float64)
    out = submission.repeat_kv(kv, n_rep)
    expected = torch.stack([kv[:, h // n_rep] for h in range(Hkv * n_rep)], dim=1)
    assert_close(out, expected, name="repeat_kv output", rtol=0.0, atol=0.0, context="for " + describe(kv=kv, n_rep=n_rep)
                 + " (query head h reads kv head h // n_rep: [k0, k0, k0, k1, k1, k1], not the tiled [k0, k1, k0, k1, ...])")


@points(3)
def test_repeat_kv_agrees_with_sdpa_grouped_query_attention(submission, rng):
    B, H, Hkv, T, D = 2, 6, 2, 5, 8
    q = randn(rng, B, H, T, D, dtype=torch.float64)
    k = randn(rng, B, Hkv, T, D, dtype=torch.float64)
    v = randn(rng, B, Hkv, T, D, dtype=torch.float64)
    k_rep = submission.repeat_kv(k, H // Hkv)
    v_rep = submission.repeat_kv(v, H // Hkv)
    got = F.scaled_dot_product_attention(q, k_rep, v_rep, is_causal=True)
    want = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    assert_close(got, want, name="attention with repeat_kv'd K and V", context="for " + describe(k=k, v=v, n_rep=H // Hkv)
                 + " (must equal F.scaled_dot_product_attention(..., enable_gqa=True), which maps head h to h // (H // Hkv))")


@points(4)
@pytest.mark.parametrize("n_rep", [1, 3])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_repeat_kv_non_contiguous_inputs(submission, reference, rng, layout, n_rep):
    kv = _laid_out(randn(rng, 2, 3, 5, 4, dtype=torch.float64), layout)
    out = submission.repeat_kv(kv, n_rep)
    assert_close(out, reference.repeat_kv(kv, n_rep), name="repeat_kv output", rtol=0.0, atol=0.0,
                 context="for " + describe(kv=kv, n_rep=n_rep) + " (kv may be non-contiguous: use reshape or repeat_interleave)")


@points(2)
@pytest.mark.parametrize("n_rep", [0, -2])
def test_repeat_kv_rejects_n_rep_below_1(submission, rng, n_rep):
    kv = randn(rng, 1, 2, 3, 4, dtype=torch.float32)
    with expect_value_error("n_rep"):
        submission.repeat_kv(kv, n_rep)
