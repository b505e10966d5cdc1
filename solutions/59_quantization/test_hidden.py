"""Hidden suite for question 59 (quantization): affine / symmetric parameters, quantize, dequantize and
an integer linear layer.

Two correct readings may differ by one float ulp: x / scale versus x * (1 / scale) (ATen and CUDA's
scalar division do the latter), float32 versus float64 parameter arithmetic. Random cases therefore
stay away from rounding ties (x / scale within 1e-4 of k + 0.5; min_neg / scale within 1e-3 of k + 0.5);
exact ties and the float32 rule have dedicated cases whose answer the contract fixes (power-of-two
scales, where every reading is exact). Both parameter functions are also called with their default
ranges ([0, 255] affine, [-128, 127] symmetric), symmetric_qparams also with an unsigned range (its zero
point stays 0), and every tensor input also arrives non-contiguous.
"""

import math

import pytest
import torch
from torch.ao.quantization import MinMaxObserver

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    GraderError,
    assert_close,
    assert_equal,
    assert_number,
    describe,
    expect_tuple,
    expect_value_error,
    explained,
    non_contiguous,
    points,
    randn,
)

EPS32 = torch.finfo(torch.float32).eps
SIGNED_RANGES = [(-128, 127), (-8, 7), (-127, 127)]
AFFINE_RANGES = [(0, 255), (0, 15), (-128, 127)]


def _f32(v: float) -> float:
    return float(torch.tensor(v, dtype=torch.float32))


def _unambiguous_affine(x_min, x_max, qmin, qmax):
    """True when float32 and float64 arithmetic agree on the zero point with a clear margin."""
    min_neg, max_pos = min(x_min, 0.0), max(x_max, 0.0)
    scale = max((max_pos - min_neg) / (qmax - qmin), EPS32)
    r = min_neg / scale
    return abs(r - math.floor(r) - 0.5) > 1e-3


def _random_range(rng, qmin, qmax):
    """(x_min, x_max), float32-representable, of either sign, zero point unambiguous."""
    for _ in range(100):
        a, b = sorted((torch.randn(2, generator=rng) * 3).tolist())
        if torch.rand(1, generator=rng).item() < 0.25:  # sometimes a range that does not contain 0
            a, b = (abs(a), abs(a) + abs(b)) if torch.rand(1, generator=rng).item() < 0.5 else (-abs(a) - abs(b), -abs(a))
        a, b = _f32(a), _f32(b)
        if _unambiguous_affine(a, b, qmin, qmax):
            return a, b
    raise GraderError("no unambiguous random range found")


def _away_from_ties(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Move values whose x / scale lies within 1e-4 of k + 0.5 by 0.3 * scale."""
    r = x.double() / scale
    near = (r - r.floor() - 0.5).abs() < 1e-4
    x = torch.where(near, x + 0.3 * scale, x)
    r = x.double() / scale
    if ((r - r.floor() - 0.5).abs() < 1e-4).any():
        raise GraderError("could not avoid rounding ties")
    return x


def _check_qparams(got, want, what):
    function = what.split("(")[0]
    scale, zero_point = expect_tuple(got, 2, function, "(scale, zero_point)")
    assert_number(scale, want[0], name=f"{what} scale", rel=1e-6)
    assert_number(zero_point, int(want[1]), name=f"{what} zero_point", integer=True)


# -- affine parameters ---------------------------------------------------------------------------

@points(6)
@pytest.mark.parametrize("qmin,qmax", AFFINE_RANGES)
@pytest.mark.parametrize("case", range(3))
def test_affine_qparams_matches_reference(submission, reference, rng, case, qmin, qmax):
    x_min, x_max = _random_range(rng, qmin, qmax)
    _check_qparams(submission.affine_qparams(x_min, x_max, qmin, qmax), reference.affine_qparams(x_min, x_max, qmin, qmax),
                   f"affine_qparams({x_min!r}, {x_max!r}, {qmin}, {qmax})")


@points(4)
@pytest.mark.parametrize("qmin,qmax", [(0, 255), (0, 15)])
@pytest.mark.parametrize("case", range(3))
def test_affine_qparams_matches_torch_minmax_observer(submission, rng, case, qmin, qmax):
    x_min, x_max = _random_range(rng, qmin, qmax)
    observer = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine, quant_min=qmin, quant_max=qmax)
    observer(torch.tensor([x_min, x_max], dtype=torch.float32))
    scale, zero_point = observer.calculate_qparams()
    _check_qparams(submission.affine_qparams(x_min, x_max, qmin, qmax), (float(scale[0]), int(zero_point[0])),
                   f"affine_qparams({x_min!r}, {x_max!r}, {qmin}, {qmax}) vs torch MinMaxObserver")


# (x_min, x_max, qmin, qmax, expected scale as (numerator, denominator) in float32, expected zero point, why)
# (x_min, x_max, qmin, qmax) -> (expected scale as (numerator, denominator) in float32, expected zero point, why)
AFFINE_HAND_BUILT = {
    (-1.0, 1.0, 0, 255): ((2.0, 255.0), 127, "float32 arithmetic: -1 / float32(2/255) = -127.49999, which rounds to -127"),
    (-1.0, 3.0, 0, 255): ((4.0, 255.0), 64, "min_neg / scale = -63.75 must be ROUNDED to -64, not truncated"),
    (1.0, 3.0, 0, 255): ((3.0, 255.0), 0, "the range is widened to include 0: [0, 3]"),
    (-3.0, -1.0, 0, 255): ((3.0, 255.0), 255, "the range is widened to include 0: [-3, 0]"),
    (0.0, 0.0, 0, 255): (None, 0, "an empty range gives the float32 eps as scale"),
    (-0.5, 2.0, -128, 127): ((2.5, 255.0), -77, "a signed target range: zero_point = qmin - round(min_neg / scale)"),
    (-2.0, 0.25, 0, 15): ((2.25, 15.0), 13, "a 4-bit range: -2 / 0.15 = -13.33"),
}


@points(8)
@pytest.mark.parametrize("x_min,x_max,qmin,qmax", list(AFFINE_HAND_BUILT))
def test_affine_qparams_hand_built(submission, x_min, x_max, qmin, qmax):
    fraction, zero_point, why = AFFINE_HAND_BUILT[x_min, x_max, qmin, qmax]
    scale = EPS32 if fraction is None else float(torch.tensor(fraction[0], dtype=torch.float32) / fraction[1])
    with explained(why):
        _check_qparams(submission.affine_qparams(x_min, x_max, qmin, qmax), (scale, zero_point),
                       f"affine_qparams({x_min}, {x_max}, {qmin}, {qmax})")


# -- symmetric parameters ------------------------------------------------------------------------

@points(6)
@pytest.mark.parametrize("qmin,qmax", SIGNED_RANGES)
@pytest.mark.parametrize("case", range(2))
def test_symmetric_qparams_matches_reference_and_minmax_observer(submission, reference, rng, case, qmin, qmax):
    x_min, x_max = _random_range(rng, qmin, qmax)
    got = submission.symmetric_qparams(x_min, x_max, qmin, qmax)
    what = f"symmetric_qparams({x_min!r}, {x_max!r}, {qmin}, {qmax})"
    _check_qparams(got, reference.symmetric_qparams(x_min, x_max, qmin, qmax), what)
    observer = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, quant_min=qmin, quant_max=qmax)
    observer(torch.tensor([x_min, x_max], dtype=torch.float32))
    scale, zero_point = observer.calculate_qparams()
    _check_qparams(got, (float(scale[0]), int(zero_point[0])), what + " vs torch MinMaxObserver")


@points(3)
def test_symmetric_denominator_is_127_5_for_int8(submission):
    with explained("scale = max(-min_neg, max_pos) / ((qmax - qmin) / 2): 2 / 127.5 for int8, not 2 / 127."):
        _check_qparams(submission.symmetric_qparams(-1.0, 2.0, -128, 127), (float(torch.tensor(2.0) / 127.5), 0),
                       "symmetric_qparams(-1.0, 2.0, -128, 127)")
    with explained("An empty range gives the float32 eps as scale."):
        _check_qparams(submission.symmetric_qparams(0.0, 0.0, -128, 127), (EPS32, 0), "symmetric_qparams(0.0, 0.0, -128, 127)")


# (x_min, x_max, qmin, qmax) -> max(-min_neg, max_pos), (qmax - qmin) / 2
UNSIGNED_SYMMETRIC = {(-1.0, 2.0, 0, 255): (2.0, 127.5), (-3.0, 0.5, 0, 255): (3.0, 127.5),
                      (0.25, 1.5, 0, 15): (1.5, 7.5)}


@points(5)
@pytest.mark.parametrize("x_min,x_max,qmin,qmax", list(UNSIGNED_SYMMETRIC))
def test_symmetric_qparams_unsigned_range_keeps_zero_point_0(submission, x_min, x_max, qmin, qmax):
    numerator, denominator = UNSIGNED_SYMMETRIC[x_min, x_max, qmin, qmax]
    want = (float(torch.tensor(numerator, dtype=torch.float32) / denominator), 0)
    with explained(f"With an unsigned range [{qmin}, {qmax}] the symmetric zero point is still 0 and the scale "
                   f"max(-min_neg, max_pos) / ((qmax - qmin) / 2) = {numerator} / {denominator} (not torch's quint8 "
                   "zero point 128, nor the midpoint 127)."):
        _check_qparams(submission.symmetric_qparams(x_min, x_max, qmin, qmax), want,
                       f"symmetric_qparams({x_min}, {x_max}, {qmin}, {qmax})")


@points(6)
@pytest.mark.parametrize("draw", [1, 2, 3])
@pytest.mark.parametrize("function", ["affine_qparams", "symmetric_qparams"])
def test_qparams_default_ranges(submission, reference, rng, function, draw):
    # Called with x_min and x_max only: affine defaults to [0, 255], symmetric to [-128, 127].
    qmin, qmax = (0, 255) if function == "affine_qparams" else (-128, 127)
    x_min, x_max = _random_range(rng, qmin, qmax)
    want = getattr(reference, function)(x_min, x_max, qmin, qmax)
    with explained(f"{function}'s default range is qmin={qmin}, qmax={qmax}."):
        _check_qparams(getattr(submission, function)(x_min, x_max), want, f"{function}({x_min!r}, {x_max!r})")


# -- quantize / dequantize -----------------------------------------------------------------------

@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mode", ["affine uint8", "symmetric int8", "affine 4-bit"])
def test_quantize_matches_reference(submission, reference, rng, mode, dtype):
    x = randn(rng, 7, 33, dtype=dtype, scale=1.5, shift=0.3)
    if mode == "affine uint8":
        qmin, qmax = 0, 255
        scale, zp = reference.affine_qparams(float(x.min()) * 0.8, float(x.max()) * 0.8, qmin, qmax)  # some saturate
    elif mode == "symmetric int8":
        qmin, qmax = -128, 127
        scale, zp = reference.symmetric_qparams(float(x.min()), float(x.max()), qmin, qmax)
    else:
        qmin, qmax = 0, 15
        scale, zp = reference.affine_qparams(float(x.min()), float(x.max()), qmin, qmax)
    x = _away_from_ties(x, scale)
    got = submission.quantize(x, scale, zp, qmin, qmax)
    with explained("q = clamp(round_half_to_even(x / scale) + zero_point, qmin, qmax) as int64, dividing in x's dtype."):
        assert_equal(got, reference.quantize(x, scale, zp, qmin, qmax), name="quantized codes (int64)",
                     context=f"({mode}; {describe(x=x, scale=scale, zero_point=zp, qmin=qmin, qmax=qmax)})")


TIES = [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 4.0, -3.0]
TIES_ROUNDED = [0, 2, 2, 4, 0, -2, -2, 4, -3]  # round half to even


@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("scale", [1.0, 0.5])
@pytest.mark.parametrize("zero_point", [3, 4])
def test_quantize_rounds_exact_ties_half_to_even(submission, zero_point, scale, dtype):
    x = torch.tensor(TIES, dtype=dtype) * scale
    got = submission.quantize(x, scale, zero_point, 0, 255)
    want = torch.tensor(TIES_ROUNDED, dtype=torch.int64) + zero_point
    assert_equal(got, want, name=f"quantize of exact ties (scale {scale}, zero_point {zero_point})",
                 context=f"(x / scale = {TIES}: round half to EVEN (torch.round), THEN add the zero point; "
                         "half away from zero or adding an odd zero point before rounding give other codes)")


@points(4)
def test_quantize_divides_float64_input_in_float64(submission):
    x = torch.tensor([0.5 + 1e-12, 2.5 + 1e-12, -1.5 - 1e-12, 2.5 - 1e-12], dtype=torch.float64)
    got = submission.quantize(x, 1.0, 10, 0, 255)
    assert_equal(got, torch.tensor([11, 13, 8, 12]), name="quantize of a float64 input",
                 context="(x / scale in float64: 2.5 + 1e-12 is above the tie and rounds to 3; in float32 it "
                         "would be the tie 2.5 and round to 2)")


@points(4)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_quantize_saturates_at_qmin_and_qmax(submission, dtype):
    x = torch.tensor([1e3, -1e3, 1e6, -7.0, 0.0, 2.0], dtype=dtype)
    got = submission.quantize(x, 0.5, 2, -8, 7)
    assert_equal(got, torch.tensor([7, -8, 7, -8, 2, 6]), name="quantize with qmin=-8, qmax=7",
                 context="(scale 0.5, zero_point 2: values beyond the range clamp to qmin / qmax)")


@points(4)
@pytest.mark.parametrize("qmin,qmax", [(0, 255), (-128, 127)])
def test_quantize_then_dequantize_matches_torch_fake_quantize(submission, reference, rng, qmin, qmax):
    x = randn(rng, 5, 41, dtype=torch.float32, scale=2.0)
    scale, zp = reference.affine_qparams(float(x.min()) * 0.9, float(x.max()) * 0.9, qmin, qmax)
    x = _away_from_ties(x, scale)
    q = submission.quantize(x, scale, zp, qmin, qmax)
    got = submission.dequantize(q, scale, zp)
    want = torch.fake_quantize_per_tensor_affine(x, scale, zp, qmin, qmax)
    assert_close(got, want, name="dequantize(quantize(x))", context="(vs torch.fake_quantize_per_tensor_affine)")


@points(4)
@pytest.mark.parametrize("zero_point", [0, 128, -3])
def test_dequantize_matches_reference(submission, reference, rng, zero_point):
    q = torch.randint(-128, 256, (6, 19), generator=rng)
    scale = _f32(0.01 + torch.rand(1, generator=rng).item() * 0.1)
    got = submission.dequantize(q, scale, zero_point)
    with explained("dequantize returns float32 (q - zero_point) * scale."):
        assert_close(got, reference.dequantize(q, scale, zero_point), name="dequantized values",
                     context=describe(q=q, scale=scale, zero_point=zero_point))


# -- quantized linear ----------------------------------------------------------------------------

def _linear_inputs(rng, N, d_in, d_out):
    x = randn(rng, N, d_in, dtype=torch.float32, scale=1.3, shift=0.4)
    w = randn(rng, d_out, d_in, dtype=torch.float32, scale=d_in ** -0.5)
    x_min, x_max = float(x.min()), float(x.max())
    x_scale = float(torch.tensor(max(x_max, 0.0) - min(x_min, 0.0), dtype=torch.float32) / 255)
    x_zp = int(min(max(-round(min(x_min, 0.0) / x_scale), 0), 255))
    x_q = torch.clamp(torch.round(x / x_scale) + x_zp, 0, 255).to(torch.int64)
    w_scale = (w.abs().amax(dim=1) / 127.5).to(torch.float32)
    w_q = torch.clamp(torch.round(w / w_scale[:, None]), -128, 127).to(torch.int64)
    bias = randn(rng, d_out, dtype=torch.float32, scale=0.1)
    return x_q, x_scale, x_zp, w_q, w_scale, bias


def _linear_described(x_q, x_scale, x_zp, w_q, w_scale, bias):
    return describe(x_q=x_q, x_scale=x_scale, x_zp=x_zp, w_q=w_q, w_scale=w_scale, bias=bias)


@points(6)
@pytest.mark.parametrize("N,d_in,d_out", [(1, 16, 8), (7, 33, 5), (16, 64, 24), (3, 128, 1)])
def test_quantized_linear_matches_reference(submission, reference, rng, N, d_in, d_out):
    args = _linear_inputs(rng, N, d_in, d_out)
    got = submission.quantized_linear(*args)
    with explained("(x_q - x_zp) @ w_q.T exactly in integers, then * x_scale * w_scale + bias, float32 [N, out]."):
        assert_close(got, reference.quantized_linear(*args), name="quantized_linear output", loose=2.0,
                     context=_linear_described(*args))


@points(8)
@pytest.mark.parametrize("case", ["random, unit scales", "large cancelling sums"])
def test_quantized_linear_accumulates_exactly_in_integers(submission, rng, case):
    if case.startswith("random"):
        x_q = torch.randint(0, 256, (5, 37), generator=rng)
        w_q = torch.randint(-128, 128, (6, 37), generator=rng)
        x_zp, x_scale = 131, 1.0
        w_scale, bias = torch.ones(6), torch.zeros(6)
    else:
        # Each row holds 16384 positive products and then the same products negated: the exact sum is
        # tiny, but float32 partial sums reach ~5e8 and lose their low bits whatever the summation order.
        g = torch.Generator().manual_seed(59)
        n = 1 << 15
        rows = []
        for _ in range(4):
            half = torch.randint(64, 128, (n // 2,), generator=g)
            rows.append(torch.cat([half, -half[torch.randperm(n // 2, generator=g)]]))
        w_q = torch.stack(rows)
        w_q[:, 0] += torch.tensor([1, -3, 5, 7])
        x_q = torch.full((2, n), 255, dtype=torch.int64)
        x_q[1, ::2] = 200
        x_zp, x_scale = 0, 0.5
        w_scale = torch.tensor([1.0, 0.25, 2.0, 0.5])
        bias = torch.tensor([0.125, -1.0, 0.0, 3.0])
    exact = (x_q - x_zp) @ w_q.T  # int64, in the trusted process
    want = exact.to(torch.float32) * x_scale * w_scale + bias  # every step exact: powers of two, small values
    got = submission.quantized_linear(x_q, x_scale, x_zp, w_q, w_scale, bias)
    assert_close(got, want, name="quantized_linear output", rtol=0, atol=0,
                 context=f"({case}: x_scale and w_scale are powers of two, so the output is exactly the integer "
                         "sum (x_q - x_zp) @ w_q.T rescaled; accumulate in int64 (or float64 on CUDA), not float32)")


# -- non-contiguous inputs -----------------------------------------------------------------------

@points(6)
@pytest.mark.parametrize("function", ["quantize", "dequantize", "quantized_linear"])
def test_non_contiguous_inputs(submission, reference, rng, function):
    # The same values in a transposed layout (vectors with stride 2): reshape, do not view.
    if function == "quantize":
        x = randn(rng, 9, 14, dtype=torch.float64, scale=1.5)
        scale, zp = reference.affine_qparams(float(x.min()), float(x.max()), 0, 255)
        x = non_contiguous(_away_from_ties(x, scale))
        got, want = submission.quantize(x, scale, zp, 0, 255), reference.quantize(x, scale, zp, 0, 255)
        inputs = describe(x=x, scale=scale, zero_point=zp, qmin=0, qmax=255)
    elif function == "dequantize":
        q = non_contiguous(torch.randint(0, 256, (7, 12), generator=rng))
        got, want = submission.dequantize(q, 0.0625, 100), reference.dequantize(q, 0.0625, 100)
        inputs = describe(q=q, scale=0.0625, zero_point=100)
    else:
        x_q, x_scale, x_zp, w_q, w_scale, bias = _linear_inputs(rng, 6, 20, 9)
        args = (non_contiguous(x_q), x_scale, x_zp, non_contiguous(w_q), non_contiguous(w_scale), non_contiguous(bias))
        got, want = submission.quantized_linear(*args), reference.quantized_linear(*args)
        inputs = _linear_described(*args)
    with explained("Inputs may be non-contiguous: use .reshape (or none), not .view."):
        assert_close(got, want, name=f"{function} output", loose=2.0, context=inputs)


# -- errors --------------------------------------------------------------------------------------

# (function, the bad call in words) -> (the argument names the violated condition involves, the call)
BAD_CALLS = {
    ("affine_qparams", "qmin=5, qmax=5"): (("qmin", "qmax"), lambda s, x: s.affine_qparams(-1.0, 1.0, 5, 5)),
    ("affine_qparams", "qmin=10, qmax=3"): (("qmin", "qmax"), lambda s, x: s.affine_qparams(-1.0, 1.0, 10, 3)),
    ("affine_qparams", "x_min=1.0 > x_max=-1.0"): (("x_min", "x_max"), lambda s, x: s.affine_qparams(1.0, -1.0, 0, 255)),
    ("symmetric_qparams", "qmin=127, qmax=-128"): (("qmin", "qmax"),
                                                   lambda s, x: s.symmetric_qparams(-1.0, 1.0, 127, -128)),
    ("symmetric_qparams", "x_min=0.5 > x_max=0.25"): (("x_min", "x_max"),
                                                      lambda s, x: s.symmetric_qparams(0.5, 0.25, -128, 127)),
    ("quantize", "qmin=3, qmax=3"): (("qmin", "qmax"), lambda s, x: s.quantize(x, 0.1, 0, 3, 3)),
    ("quantize", "qmin=255, qmax=0"): (("qmin", "qmax"), lambda s, x: s.quantize(x, 0.1, 0, 255, 0)),
    ("quantize", "scale=0.0"): (("scale",), lambda s, x: s.quantize(x, 0.0, 0, 0, 255)),
    ("quantize", "scale=-0.1"): (("scale",), lambda s, x: s.quantize(x, -0.1, 0, 0, 255)),
    ("dequantize", "scale=0.0"): (("scale",), lambda s, x: s.dequantize(torch.tensor([1, 2, 3]), 0.0, 0)),
    ("dequantize", "scale=-2.0"): (("scale",), lambda s, x: s.dequantize(torch.tensor([1, 2, 3]), -2.0, 0)),
}


@points(6)
@pytest.mark.parametrize("function,case", list(BAD_CALLS))
def test_rejects_bad_arguments(submission, function, case):
    names, call = BAD_CALLS[function, case]
    x = torch.tensor([0.1, -0.2, 0.3])
    with explained(f"{function}({case}) must raise ValueError naming {' or '.join(names)}."), expect_value_error(*names):
        call(submission, x)
