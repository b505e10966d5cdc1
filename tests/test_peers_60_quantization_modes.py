"""The reference of question 60 (static versus dynamic quantization) against independent peers.

Peers: torch.ao.quantization.MinMaxObserver fed every calibration batch (and, per tensor, the input
itself for the dynamic case), torch.fake_quantize_per_tensor_affine, and Python integers for the
exact accumulation of the dynamic linear layer.
"""

import pytest
import torch
from torch.ao.quantization import MinMaxObserver, MovingAverageMinMaxObserver

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(60)).load_reference()


def _batches(seed):
    """Calibration data with the global min in batch 1 and the global max in batch 3 of 5 (lesson 1)."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 6), (17,), (2, 3, 5), (9, 2), (11,)]
    batches = [torch.randn(*s, generator=g, dtype=torch.float64) for s in shapes]
    batches[1] = batches[1] - 3.0 * batches[1].abs().max()
    batches[3] = batches[3].abs() * 2.5 + 1.0
    return batches


def _observer(batches, observer_class=MinMaxObserver, qmin=0, qmax=255):
    observer = observer_class(dtype=torch.quint8, qscheme=torch.per_tensor_affine, quant_min=qmin, quant_max=qmax)
    for b in batches:
        observer(b)
    scale, zero_point = observer.calculate_qparams()
    return float(scale[0]), int(zero_point[0])


@pytest.mark.parametrize("qmin,qmax", [(0, 255), (0, 15)])
def test_calibrate_static_matches_minmax_observer_fed_every_batch(ref, qmin, qmax):
    for seed in range(20):
        batches = _batches(seed)
        got = ref.calibrate_static(batches, qmin, qmax)
        assert type(got[0]) is float and type(got[1]) is int
        assert got == _observer(batches, qmin=qmin, qmax=qmax)


def test_calibration_data_tells_minmax_from_last_batch_first_batch_and_moving_average(ref):
    batches = _batches(0)
    want = ref.calibrate_static(batches)
    assert want != _observer(batches[-1:])
    assert want != _observer(batches[:1])
    assert want != _observer(batches, MovingAverageMinMaxObserver)


@pytest.mark.parametrize("qmin,qmax", [(0, 255), (-128, 127)])
def test_fake_quant_static_matches_torch_fake_quantize(ref, qmin, qmax):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 33, generator=g, dtype=torch.float32) * 2
    scale, zp = ref.calibrate_static([x * 0.6], qmin, qmax)  # a narrower calibration: some values saturate
    got = ref.fake_quant_static(x, scale, zp, qmin, qmax)
    assert got.dtype == torch.float32
    assert torch.equal(got, torch.fake_quantize_per_tensor_affine(x, scale, zp, qmin, qmax))


def test_fake_quant_dynamic_matches_observer_on_the_input_then_fake_quantize(ref):
    g = torch.Generator().manual_seed(2)
    for _ in range(10):
        x = torch.randn(8, 16, generator=g, dtype=torch.float32) * 1.5 + 0.3
        scale, zp = _observer([x])
        assert torch.equal(ref.fake_quant_dynamic(x), torch.fake_quantize_per_tensor_affine(x, scale, zp, 0, 255))


def test_fake_quant_keeps_float64(ref):
    x = torch.randn(5, 7, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert ref.fake_quant_dynamic(x).dtype == torch.float64
    assert ref.fake_quant_static(x, 0.01, 128).dtype == torch.float64
    scale = (float(x.max()) - float(x.min())) / 255
    assert float((ref.fake_quant_dynamic(x) - x).abs().max()) <= scale / 2 * (1 + 1e-6)


def test_dynamic_quantized_linear_matches_python_integer_dot_products(ref):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(4, 19, generator=g, dtype=torch.float32)
    w_q = torch.randint(-128, 128, (6, 19), generator=g)
    w_scale = torch.rand(6, generator=g) * 0.01
    bias = torch.randn(6, generator=g)
    scale, zp = _observer([x])
    x_q = (torch.fake_quantize_per_tensor_affine(x, scale, zp, 0, 255) / scale).round().to(torch.int64) + zp
    acc = [[sum((a - zp) * b for a, b in zip(xr, wr)) for wr in w_q.tolist()] for xr in x_q.tolist()]
    want = torch.tensor(acc, dtype=torch.float64) * scale * w_scale.double() + bias.double()
    out = ref.dynamic_quantized_linear(x, w_q, w_scale, bias)
    assert out.dtype == torch.float32
    assert torch.allclose(out.double(), want, rtol=1e-6, atol=1e-6)


def test_torch_fake_quantize_is_a_peer_for_float32_only(ref):
    # torch.fake_quantize_per_tensor_affine keeps a float64 input's dtype but works in float32 inside: its
    # results are ~1e-8 off the float64 fake quantization, far beyond float64 tolerances.
    x = torch.randn(6, 13, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    scale, zp = _observer([x])
    want = ref.fake_quant_static(x, scale, zp)
    torch_result = torch.fake_quantize_per_tensor_affine(x, scale, zp, 0, 255)
    assert torch_result.dtype == torch.float64
    assert float((torch_result - want).abs().max()) > 1e-9
    assert torch.equal(ref.fake_quant_static(x.float(), scale, zp),
                       torch.fake_quantize_per_tensor_affine(x.float(), scale, zp, 0, 255))


def test_dynamic_quantized_linear_returns_float32_for_float64_input(ref):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 8, generator=g, dtype=torch.float64)
    w_q = torch.randint(-128, 128, (4, 8), generator=g)
    out = ref.dynamic_quantized_linear(x, w_q, torch.full((4,), 0.01), torch.zeros(4))
    assert out.dtype == torch.float32 and out.shape == (3, 4)
