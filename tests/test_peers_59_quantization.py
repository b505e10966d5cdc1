"""The reference of question 59 (affine / symmetric int8 quantization) against independent peers.

Peers: torch.ao.quantization.MinMaxObserver(...).calculate_qparams() for the parameters,
torch.fake_quantize_per_tensor_affine for dequantize(quantize(x)) (torch.quantize_per_tensor is
deprecated in torch 2.13), Python's round (half to even) for the codes, and Python integers for the
exact accumulation of the quantized linear layer.
"""

import pytest
import torch
from torch.ao.quantization import MinMaxObserver

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(59)).load_reference()


def _ranges(seed, count):
    g = torch.Generator().manual_seed(seed)
    pairs = torch.randn(count, 2, generator=g, dtype=torch.float64) * 3
    pairs[: count // 4] = pairs[: count // 4].abs()  # ranges that do not contain 0
    pairs[count // 4: count // 2] = -pairs[count // 4: count // 2].abs()
    return [tuple(sorted(p)) for p in pairs.tolist()]


def _observer_qparams(x_min, x_max, dtype, qscheme, qmin, qmax):
    observer = MinMaxObserver(dtype=dtype, qscheme=qscheme, quant_min=qmin, quant_max=qmax)
    observer(torch.tensor([x_min, x_max], dtype=torch.float64))  # the observer works in float32
    scale, zero_point = observer.calculate_qparams()
    return float(scale[0]), int(zero_point[0])


@pytest.mark.parametrize("qmin,qmax", [(0, 255), (0, 15), (0, 127)])
def test_affine_qparams_match_minmax_observer_exactly(ref, qmin, qmax):
    for x_min, x_max in _ranges(0, 200):
        want = _observer_qparams(x_min, x_max, torch.quint8, torch.per_tensor_affine, qmin, qmax)
        got = ref.affine_qparams(x_min, x_max, qmin, qmax)
        assert type(got[0]) is float and type(got[1]) is int
        assert got == want, (x_min, x_max)


@pytest.mark.parametrize("qmin,qmax", [(-128, 127), (-8, 7), (-127, 127)])
def test_symmetric_qparams_match_minmax_observer_exactly(ref, qmin, qmax):
    for x_min, x_max in _ranges(1, 200):
        want = _observer_qparams(x_min, x_max, torch.qint8, torch.per_tensor_symmetric, qmin, qmax)
        assert ref.symmetric_qparams(x_min, x_max, qmin, qmax) == want, (x_min, x_max)


def test_affine_qparams_of_minus_one_to_one_has_zero_point_127(ref):
    assert ref.affine_qparams(-1.0, 1.0) == (float(torch.tensor(2.0) / 255), 127)
    assert _observer_qparams(-1.0, 1.0, torch.quint8, torch.per_tensor_affine, 0, 255)[1] == 127


def test_empty_range_gives_float32_eps_scale(ref):
    eps = torch.finfo(torch.float32).eps
    assert ref.affine_qparams(0.0, 0.0) == (eps, 0)
    assert ref.symmetric_qparams(0.0, 0.0) == (eps, 0)
    assert _observer_qparams(0.0, 0.0, torch.quint8, torch.per_tensor_affine, 0, 255) == (eps, 0)


def test_quantize_float64_matches_python_round_half_to_even(ref):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(300, generator=g, dtype=torch.float64) * 2
    x = torch.cat([x, torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5]) * 0.25])
    scale, zp = 0.25, 7
    q = ref.quantize(x, scale, zp, -20, 30)
    assert q.dtype == torch.int64
    assert q.tolist() == [min(max(round(v / scale) + zp, -20), 30) for v in x.tolist()]


@pytest.mark.parametrize("qmin,qmax", [(0, 255), (-128, 127)])
def test_fake_quantize_matches_torch_fake_quantize_per_tensor_affine(ref, qmin, qmax):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(64, 65, generator=g, dtype=torch.float32) * 2
    scale, zp = ref.affine_qparams(float(x.min()) * 0.9, float(x.max()) * 0.9, qmin, qmax)
    got = ref.dequantize(ref.quantize(x, scale, zp, qmin, qmax), scale, zp)
    assert got.dtype == torch.float32
    assert torch.equal(got, torch.fake_quantize_per_tensor_affine(x, scale, zp, qmin, qmax))


def test_quantized_linear_matches_python_integer_dot_products(ref):
    g = torch.Generator().manual_seed(4)
    x_q = torch.randint(0, 256, (4, 23), generator=g)
    w_q = torch.randint(-128, 128, (5, 23), generator=g)
    x_scale, x_zp = 0.037, 119
    w_scale = torch.rand(5, generator=g) * 0.01
    bias = torch.randn(5, generator=g)
    out = ref.quantized_linear(x_q, x_scale, x_zp, w_q, w_scale, bias)
    xs, ws = x_q.tolist(), w_q.tolist()
    acc = [[sum((a - x_zp) * b for a, b in zip(xr, wr)) for wr in ws] for xr in xs]
    want = torch.tensor(acc, dtype=torch.float64) * x_scale * w_scale.double() + bias.double()
    assert out.dtype == torch.float32
    assert torch.allclose(out.double(), want, rtol=1e-6, atol=1e-6)


def test_quantized_linear_integer_sum_is_exact_beyond_float32(ref):
    # Sums whose float32 partial sums lose bits: the reference must still be exact.
    n = 1 << 15
    half = torch.randint(64, 128, (n // 2,), generator=torch.Generator().manual_seed(5))
    w_q = torch.cat([half, -half.flip(0)])[None, :].clone()
    w_q[0, 0] += 3
    x_q = torch.full((1, n), 255, dtype=torch.int64)
    out = ref.quantized_linear(x_q, 1.0, 0, w_q, torch.ones(1), torch.zeros(1))
    assert out.tolist() == [[765.0]]


def test_bad_arguments_raise_value_error(ref):
    with pytest.raises(ValueError, match="qmin"):
        ref.affine_qparams(-1.0, 1.0, 5, 5)
    with pytest.raises(ValueError, match="x_min"):
        ref.symmetric_qparams(1.0, -1.0)
    with pytest.raises(ValueError, match="scale"):
        ref.quantize(torch.zeros(3), 0.0, 0, 0, 255)
    with pytest.raises(ValueError, match="scale"):
        ref.dequantize(torch.zeros(3, dtype=torch.int64), -1.0, 0)


@pytest.mark.parametrize("qmin,qmax", [(0, 255), (0, 15)])
def test_symmetric_qparams_of_an_unsigned_range_keep_the_observer_scale_but_zero_point_0(ref, qmin, qmax):
    # torch's quint8 symmetric observer with a custom range has the same scale but zero point (qmin + qmax) // 2
    # (128 with its default range); the contract fixes the zero point at 0 for every range.
    for x_min, x_max in _ranges(2, 100):
        scale, zero_point = _observer_qparams(x_min, x_max, torch.quint8, torch.per_tensor_symmetric, qmin, qmax)
        assert zero_point == (qmin + qmax) // 2
        assert ref.symmetric_qparams(x_min, x_max, qmin, qmax) == (scale, 0), (x_min, x_max)


def test_default_ranges_are_uint8_affine_and_int8_symmetric(ref):
    for x_min, x_max in _ranges(3, 50):
        assert ref.affine_qparams(x_min, x_max) == ref.affine_qparams(x_min, x_max, 0, 255)
        assert ref.symmetric_qparams(x_min, x_max) == ref.symmetric_qparams(x_min, x_max, -128, 127)
