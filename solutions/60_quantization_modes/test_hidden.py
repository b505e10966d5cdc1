"""Hidden suite for question 60 (quantization-modes): static calibration versus dynamic ranges.

Calibration data always puts the global minimum and the global maximum in two DIFFERENT batches, neither
of them the last one (nor, for the minimum, the first), so that calibrating on one batch, or with a
moving average, gives other parameters. Random inputs stay away from rounding ties (x / scale within
1e-4 of k + 0.5, min_neg / scale within 1e-3 of k + 0.5), where x / scale and x * (1 / scale), or
float32 and float64 parameter arithmetic, could legitimately disagree. float64 fake quantization uses
float64 tolerances (torch.fake_quantize_per_tensor_affine, float32 inside, fails them); every
function's default range is used; every tensor input also arrives non-contiguous; and
dynamic_quantized_linear returns float32 for a float64 input too.
"""

import math

import pytest
import torch
from torch.ao.quantization import MinMaxObserver

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    GraderError,
    assert_close,
    assert_number,
    describe,
    expect_tuple,
    explained,
    non_contiguous,
    points,
    randn,
)

EPS32 = torch.finfo(torch.float32).eps
QRANGES = [(0, 255), (0, 15), (-128, 127)]


def _qparams(x_min, x_max, qmin, qmax):
    """The affine parameters in float32, as torch's MinMaxObserver (written out here, trusted side)."""
    lo = torch.clamp(torch.tensor(float(x_min), dtype=torch.float32), max=0.0)
    hi = torch.clamp(torch.tensor(float(x_max), dtype=torch.float32), min=0.0)
    scale = torch.clamp((hi - lo) / float(qmax - qmin), min=EPS32)
    zp = qmin - int(torch.round(lo / scale))
    return float(scale), min(max(zp, qmin), qmax)


def _zero_point_is_unambiguous(x_min, x_max, qmin, qmax):
    lo, hi = min(x_min, 0.0), max(x_max, 0.0)
    r = lo / max((hi - lo) / (qmax - qmin), EPS32)
    return abs(r - math.floor(r) - 0.5) > 1e-3


def _near_tie(x, scale):
    r = x.double() / scale
    return (r - r.floor() - 0.5).abs() < 1e-4


def _away_from_ties(x, scale):
    """Move values whose x / scale is within 1e-4 of a tie by 0.3 * scale toward the middle of x's range
    (so the range itself does not change)."""
    mid = (float(x.max()) + float(x.min())) / 2
    x = torch.where(_near_tie(x, scale), x - 0.3 * scale * torch.sign(x - mid), x)
    if _near_tie(x, scale).any():
        raise GraderError("could not avoid rounding ties")
    return x


def _dynamic_input(rng, shape, dtype, qmin=0, qmax=255, scale=1.0, shift=0.0):
    """Random x whose own range gives unambiguous parameters and no rounding ties."""
    for _ in range(50):
        x = randn(rng, *shape, dtype=dtype, scale=scale, shift=shift)
        if _zero_point_is_unambiguous(float(x.min()), float(x.max()), qmin, qmax):
            s, _ = _qparams(float(x.min()), float(x.max()), qmin, qmax)
            return _away_from_ties(x, s)
    raise GraderError("no unambiguous random input found")


def _calibration_batches(rng, dtype, qmin, qmax):
    """Five batches of different shapes; the global min in batch 1 and the global max in batch 3."""
    shapes = [(4, 6), (17,), (2, 3, 5), (9, 2), (11,)]
    for _ in range(50):
        batches = [randn(rng, *s, dtype=dtype) for s in shapes]
        batches[1] = batches[1] - 3.0 * batches[1].abs().max()  # a batch reaching far below the others
        batches[3] = batches[3].abs() * 2.5 + 1.0  # a batch reaching far above the others
        lo = min(float(b.min()) for b in batches)
        hi = max(float(b.max()) for b in batches)
        if (float(batches[1].min()) == lo and float(batches[3].max()) == hi
                and _zero_point_is_unambiguous(lo, hi, qmin, qmax)):
            return batches
    raise GraderError("no unambiguous calibration batches found")


def _check_qparams(got, want, what):
    scale, zero_point = expect_tuple(got, 2, "calibrate_static", "(scale, zero_point)")
    assert_number(scale, want[0], name=f"{what}: scale", rel=1e-6)
    assert_number(zero_point, int(want[1]), name=f"{what}: zero_point", integer=True)


def _batches_described(batches):
    return "batches: " + "; ".join(f"[{i}] {list(b.shape)} {str(b.dtype)[6:]} range [{float(b.min()):.6g}, "
                                   f"{float(b.max()):.6g}]" + ("" if b.is_contiguous() else " (non-contiguous)")
                                   for i, b in enumerate(batches))


# -- static calibration --------------------------------------------------------------------------

@points(12)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("qmin,qmax", QRANGES)
def test_calibrate_static_matches_reference(submission, reference, rng, qmin, qmax, dtype):
    batches = _calibration_batches(rng, dtype, qmin, qmax)
    with explained("A MinMax observer keeps the running min and max over ALL batches (here the global min is in "
                   "batch 1 and the global max in batch 3), then takes the affine parameters of that range."):
        _check_qparams(submission.calibrate_static(batches, qmin, qmax), reference.calibrate_static(batches, qmin, qmax),
                       f"calibrate_static(batches, qmin={qmin}, qmax={qmax}) ({_batches_described(batches)})")


CALIBRATION_CASES = {
    "min in batch 1, max in batch 2 of 4": (
        [[0.5, -0.25, 1.0], [-3.0, 0.1], [4.0, -1.0, 0.2], [0.3, -0.5]], (-3.0, 4.0)),
    "max in batch 0, min in batch 2 of 5": (
        [[2.0, 0.5], [0.25, -0.75, 1.5], [-2.5, 0.0], [1.0, -1.0], [0.125, -0.125]], (-2.5, 2.0)),
    "all positive, max in batch 1 of 3": (
        [[0.5, 1.0], [6.0, 2.0, 0.75], [3.0, 0.25]], (0.0, 6.0)),
}


@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case", list(CALIBRATION_CASES))
def test_calibrate_static_sees_the_extremes_of_every_batch(submission, case, dtype):
    values, (lo, hi) = CALIBRATION_CASES[case]
    batches = [torch.tensor(v, dtype=dtype) for v in values]
    got = submission.calibrate_static(batches)
    _check_qparams(got, _qparams(lo, hi, 0, 255),
                   f"calibrate_static ({case}: a MinMax observer keeps the running min and max over ALL batches, "
                   f"so the range is [{lo}, {hi}], not one batch's range nor a moving average)")


@points(5)
@pytest.mark.parametrize("qmin,qmax", [(0, 255), (0, 15)])
def test_calibrate_static_matches_torch_minmax_observer(submission, rng, qmin, qmax):
    batches = _calibration_batches(rng, torch.float32, qmin, qmax)
    observer = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine, quant_min=qmin, quant_max=qmax)
    for b in batches:
        observer(b)
    scale, zero_point = observer.calculate_qparams()
    _check_qparams(submission.calibrate_static(batches, qmin, qmax), (float(scale[0]), int(zero_point[0])),
                   f"calibrate_static vs torch MinMaxObserver fed every batch (qmin={qmin}, qmax={qmax})")


# -- static fake quantization --------------------------------------------------------------------

@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("qmin,qmax", QRANGES)
def test_fake_quant_static_matches_reference(submission, reference, rng, qmin, qmax, dtype):
    batches = _calibration_batches(rng, dtype, qmin, qmax)
    scale, zp = reference.calibrate_static(batches, qmin, qmax)
    # x spans the calibrated range and a little beyond, so that every code (and both saturations) occurs.
    lo, hi = (min(float(b.min()) for b in batches), max(float(b.max()) for b in batches))
    x = lo - 0.1 * (hi - lo) + 1.2 * (hi - lo) * torch.rand(6, 13, generator=rng, dtype=dtype)
    x = _away_from_ties(x, scale)
    got = submission.fake_quant_static(x, scale, zp, qmin, qmax)
    with explained("(clamp(round(x / scale) + zp, qmin, qmax) - zp) * scale, computed and returned in x's dtype "
                   "(a float64 x stays float64-accurate: an op that works in float32 inside is not enough)."):
        assert_close(got, reference.fake_quant_static(x, scale, zp, qmin, qmax), name="fake_quant_static output",
                     context=describe(x=x, scale=scale, zero_point=zp, qmin=qmin, qmax=qmax))


@points(4)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_fake_quant_static_saturates_outside_the_calibrated_range(submission, dtype):
    # 4-bit codes with scale 0.125 and zero point 8 cover [-1.0, 0.875]; everything beyond saturates.
    x = torch.tensor([5.0, -5.0, 100.0, -1.05, 0.0, 0.3, 0.85], dtype=dtype)
    got = submission.fake_quant_static(x, 0.125, 8, 0, 15)
    want = torch.tensor([0.875, -1.0, 0.875, -1.0, 0.0, 0.25, 0.875], dtype=dtype)
    assert_close(got, want, name="fake_quant_static of values outside the range",
                 context="(scale 0.125, zero point 8, qmin 0, qmax 15: values beyond the range saturate at "
                         "(qmin - zp) * scale = -1.0 and (qmax - zp) * scale = 0.875)")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("zero_point", [3, 4])
def test_fake_quant_static_rounds_ties_half_to_even(submission, zero_point, dtype):
    ties = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5]
    x = torch.tensor(ties, dtype=dtype) * 0.25
    got = submission.fake_quant_static(x, 0.25, zero_point, 0, 255)
    want = torch.tensor([0, 2, 2, 0, -2, -2], dtype=dtype) * 0.25
    assert_close(got, want, name=f"fake_quant_static of exact ties (scale 0.25, zero_point {zero_point})",
                 context=f"(x / scale = {ties}: round half to even BEFORE adding the zero point)")


@points(4)
@pytest.mark.parametrize("qmin,qmax", [(0, 255), (-128, 127)])
def test_fake_quant_static_matches_torch_fake_quantize(submission, rng, qmin, qmax):
    x = randn(rng, 8, 21, dtype=torch.float32, scale=2.0)
    scale, zp = _qparams(float(x.min()) * 0.7, float(x.max()) * 0.7, qmin, qmax)  # some values saturate
    x = _away_from_ties(x, scale)
    got = submission.fake_quant_static(x, scale, zp, qmin, qmax)
    assert_close(got, torch.fake_quantize_per_tensor_affine(x, scale, zp, qmin, qmax), name="fake_quant_static output",
                 context="(vs torch.fake_quantize_per_tensor_affine)")


# -- dynamic -------------------------------------------------------------------------------------

@points(9)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape,qmin,qmax", [((5, 16), 0, 255), ((1, 7), 0, 255), ((3, 4, 9), 0, 15),
                                             ((40,), -128, 127)])
def test_fake_quant_dynamic_matches_reference(submission, reference, rng, shape, qmin, qmax, dtype):
    x = _dynamic_input(rng, shape, dtype, qmin, qmax, scale=1.5, shift=0.2)
    got = submission.fake_quant_dynamic(x, qmin, qmax)
    with explained("The parameters come from this x's own min and max over the whole tensor (per tensor), then "
                   "fake quantization in x's dtype."):
        assert_close(got, reference.fake_quant_dynamic(x, qmin, qmax), name="fake_quant_dynamic output",
                     context=describe(x=x, qmin=qmin, qmax=qmax))


@points(8)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_fake_quant_dynamic_uses_this_inputs_range_not_a_calibrated_one(submission, rng, dtype):
    # A wide calibration first (a submission that caches static parameters would now reuse them), then a
    # narrow input: the dynamic parameters must come from the narrow input itself.
    wide = [randn(rng, 30, dtype=dtype, scale=4.0), randn(rng, 30, dtype=dtype, scale=4.0) + 6.0,
            randn(rng, 30, dtype=dtype, scale=4.0)]
    submission.calibrate_static(wide)
    x = _dynamic_input(rng, (6, 10), dtype, scale=0.05, shift=0.01)
    got = submission.fake_quant_dynamic(x)
    scale, zp = _qparams(float(x.min()), float(x.max()), 0, 255)
    q = torch.clamp(torch.round(x / scale).to(torch.int64) + zp, 0, 255)
    want = (q - zp).to(dtype) * scale
    assert_close(got, want, name="fake_quant_dynamic of a narrow input", context=(
        f"(x spans [{float(x.min()):.4g}, {float(x.max()):.4g}]: dynamic quantization computes scale {scale:.4g} and "
        f"zero point {zp} from x itself, whatever was calibrated before)"))


@points(4)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_fake_quant_dynamic_error_is_at_most_half_a_step(submission, rng, dtype):
    # Property: the range covers x, so nothing saturates and every value moves by at most scale / 2.
    x = _dynamic_input(rng, (12, 12), dtype, scale=3.0, shift=1.0)
    got = submission.fake_quant_dynamic(x)
    if got.dtype != dtype or got.shape != x.shape:
        raise AssertionError(f"fake_quant_dynamic: expected {dtype} of shape {list(x.shape)}, "
                             f"got {got.dtype} {list(got.shape)}")
    scale = (max(float(x.max()), 0.0) - min(float(x.min()), 0.0)) / 255
    err = float((got.double() - x.double()).abs().max())
    if err > scale * 0.5 * (1 + 1e-4) + 1e-6:
        raise AssertionError(f"fake_quant_dynamic: a value moved by {err:.4g}, more than half a quantization step "
                             f"({scale / 2:.4g}); the dynamic range must cover the whole input")


def _linear_weights(rng, d_in, d_out):
    w = randn(rng, d_out, d_in, dtype=torch.float32, scale=d_in ** -0.5)
    w_scale = (w.abs().amax(dim=1) / 127.5).to(torch.float32)
    w_q = torch.clamp(torch.round(w / w_scale[:, None]), -128, 127).to(torch.int64)
    bias = randn(rng, d_out, dtype=torch.float32, scale=0.1)
    return w_q, w_scale, bias


@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("N,d_in,d_out", [(1, 16, 8), (7, 33, 5), (16, 64, 24)])
def test_dynamic_quantized_linear_matches_reference(submission, reference, rng, N, d_in, d_out, dtype):
    x = _dynamic_input(rng, (N, d_in), dtype, scale=1.2, shift=0.3)
    w_q, w_scale, bias = _linear_weights(rng, d_in, d_out)
    got = submission.dynamic_quantized_linear(x, w_q, w_scale, bias)
    with explained("Affine uint8 parameters from x itself, then (x_q - x_zp) @ w_q.T exactly in integers, "
                   "* x_scale * w_scale + bias: float32 [N, out] whatever x's dtype."):
        assert_close(got, reference.dynamic_quantized_linear(x, w_q, w_scale, bias),
                     name="dynamic_quantized_linear output", loose=2.0,
                     context=describe(x=x, w_q=w_q, w_scale=w_scale, bias=bias))


@points(4)
def test_dynamic_quantized_linear_is_within_the_quantization_error_of_float_linear(submission, rng):
    # Property: x is quantized with step x_scale (error <= x_scale / 2 per element), so each output is within
    # x_scale / 2 * sum_i |w_deq[o, i]| of x @ w_deq.T + bias.
    x = _dynamic_input(rng, (9, 40), torch.float32, scale=0.5, shift=-0.1)
    w_q, w_scale, bias = _linear_weights(rng, 40, 12)
    got = submission.dynamic_quantized_linear(x, w_q, w_scale, bias)
    w_deq = w_q.double() * w_scale.double()[:, None]
    exact = x.double() @ w_deq.T + bias.double()
    x_scale = (max(float(x.max()), 0.0) - min(float(x.min()), 0.0)) / 255
    bound = x_scale / 2 * w_deq.abs().sum(dim=1) * (1 + 1e-4) + 1e-5
    err = (got.double() - exact).abs()
    if not bool((err <= bound).all()):
        worst = int(err.max(dim=0).values.argmax())
        raise AssertionError(f"dynamic_quantized_linear: an output is {float(err.max()):.4g} away from the float linear "
                             f"layer, more than the quantization error bound {float(bound[worst]):.4g} (x quantized per "
                             "tensor with its own range: scale = (max(x) - min(x)) / 255)")


# -- defaults, branches and layouts --------------------------------------------------------------

@points(4)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_fake_quant_static_default_range_is_0_to_255(submission, rng, dtype):
    # Called with x, scale and zero_point only: qmin=0, qmax=255. Some values saturate at both ends.
    x = randn(rng, 5, 11, dtype=dtype, scale=2.0)
    scale, zp = _qparams(float(x.min()) * 0.7, float(x.max()) * 0.7, 0, 255)
    x = _away_from_ties(x, scale)
    got = submission.fake_quant_static(x, scale, zp)
    q = torch.clamp(torch.round(x / scale).to(torch.int64) + zp, 0, 255)
    with explained("fake_quant_static's default range is qmin=0, qmax=255."):
        assert_close(got, (q - zp).to(dtype) * scale, name="fake_quant_static(x, scale, zero_point)",
                     context=describe(x=x, scale=scale, zero_point=zp))


SPECIAL_INPUTS = {"all positive": (0.5, 3.0), "all negative": (-4.0, -0.25), "all zero": (0.0, 0.0)}


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case", list(SPECIAL_INPUTS))
def test_fake_quant_dynamic_widens_the_range_to_include_0(submission, rng, case, dtype):
    lo, hi = SPECIAL_INPUTS[case]
    if lo == hi:
        x = torch.zeros(4, 6, dtype=dtype)
    else:
        for _ in range(50):
            x = lo + (hi - lo) * torch.rand(4, 6, generator=rng, dtype=dtype)
            if _zero_point_is_unambiguous(float(x.min()), float(x.max()), 0, 255):
                break
        else:
            raise GraderError("no unambiguous input found")
        x = _away_from_ties(x, _qparams(float(x.min()), float(x.max()), 0, 255)[0])
    scale, zp = _qparams(float(x.min()), float(x.max()), 0, 255)
    q = torch.clamp(torch.round(x / scale).to(torch.int64) + zp, 0, 255)
    got = submission.fake_quant_dynamic(x)
    with explained(f"An {case} input: the range is widened to include 0 (scale {scale:.6g}, zero point {zp}); "
                   "an empty range gets the float32 eps as scale."):
        assert_close(got, (q - zp).to(dtype) * scale, name="fake_quant_dynamic output", context=describe(x=x))


@points(6)
@pytest.mark.parametrize("function", ["calibrate_static", "fake_quant_static", "fake_quant_dynamic",
                                      "dynamic_quantized_linear"])
def test_non_contiguous_inputs(submission, reference, rng, function):
    # The same values in a transposed layout (vectors with stride 2): reshape or reduce, do not view.
    if function == "calibrate_static":
        batches = [non_contiguous(b) for b in _calibration_batches(rng, torch.float64, 0, 255)]
        with explained("Batches may be non-contiguous."):
            _check_qparams(submission.calibrate_static(batches), reference.calibrate_static(batches),
                           f"calibrate_static(batches) ({_batches_described(batches)})")
        return
    if function == "dynamic_quantized_linear":
        x = non_contiguous(_dynamic_input(rng, (6, 20), torch.float32, scale=1.2, shift=0.3))
        w_q, w_scale, bias = (non_contiguous(t) for t in _linear_weights(rng, 20, 7))
        got, want = submission.dynamic_quantized_linear(x, w_q, w_scale, bias), \
            reference.dynamic_quantized_linear(x, w_q, w_scale, bias)
        inputs = describe(x=x, w_q=w_q, w_scale=w_scale, bias=bias)
    else:
        x = non_contiguous(_dynamic_input(rng, (7, 9), torch.float64, scale=1.5))
        if function == "fake_quant_static":
            scale, zp = _qparams(float(x.min()), float(x.max()), 0, 255)
            got, want = submission.fake_quant_static(x, scale, zp, 0, 255), reference.fake_quant_static(x, scale, zp, 0, 255)
            inputs = describe(x=x, scale=scale, zero_point=zp, qmin=0, qmax=255)
        else:
            got, want = submission.fake_quant_dynamic(x), reference.fake_quant_dynamic(x)
            inputs = describe(x=x)
    with explained("Inputs may be non-contiguous: use .reshape or reductions, not .view."):
        assert_close(got, want, name=f"{function} output", loose=2.0, context=inputs)
