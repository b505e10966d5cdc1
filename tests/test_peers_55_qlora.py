"""The reference of question 55 (NF4 block quantization) against independent peers.

Peers: the contract's definition written out element by element (count of float32 midpoints strictly
below the value), torch.bucketize on the float32 midpoints, and, when bitsandbytes is installed, its
NF4 table (get_4bit_type) and bitsandbytes.functional.quantize_4bit / dequantize_4bit themselves
(they run on the CPU in bitsandbytes 0.50).
"""

import pytest
import torch

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(55)).load_reference()


def _levels(ref):
    return torch.tensor(ref.NF4, dtype=torch.float32)


def _weights(seed, *shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 0.02


def test_nf4_levels_are_bitsandbytes_get_4bit_type(ref):
    bnbf = pytest.importorskip("bitsandbytes.functional")
    assert torch.equal(bnbf.get_4bit_type("nf4", device="cpu").to(torch.float32), _levels(ref))


def test_nf4_quantize_matches_the_definition_element_by_element(ref):
    w = _weights(0, 6, 40)  # float64 input: converted to float32 first
    blocksize = 24
    codes, absmax = ref.nf4_quantize(w, blocksize)
    mids = (_levels(ref)[:-1] + _levels(ref)[1:]) / 2
    flat = w.to(torch.float32).reshape(-1)
    for b in range(flat.numel() // blocksize):
        block = flat[b * blocksize:(b + 1) * blocksize]
        amax = max(abs(float(v)) for v in block)
        assert float(absmax[b]) == amax
        for j, v in enumerate(block):
            scaled = torch.tensor(float(v), dtype=torch.float32) / torch.tensor(amax, dtype=torch.float32)
            expected = sum(1 for m in mids if float(m) < float(scaled))
            assert int(codes[b * blocksize + j]) == expected


def test_nf4_quantize_matches_bucketize_on_float32_midpoints(ref):
    w = _weights(1, 32, 128)
    codes, absmax = ref.nf4_quantize(w, 64)
    blocks = w.to(torch.float32).reshape(-1, 64)
    mids = (_levels(ref)[:-1] + _levels(ref)[1:]) / 2
    expected = torch.bucketize(blocks / blocks.abs().amax(dim=1, keepdim=True), mids, right=False)
    assert codes.dtype == torch.uint8 and absmax.dtype == torch.float32
    assert torch.equal(codes.long(), expected.reshape(-1))
    assert torch.equal(absmax, blocks.abs().amax(dim=1))


def test_nf4_codes_name_the_nearest_level(ref):
    w = _weights(2, 16, 96)
    codes, absmax = ref.nf4_quantize(w, 32)
    scaled = (w.to(torch.float32).double().reshape(-1, 32) / absmax.double()[:, None]).reshape(-1, 1)
    dist = (scaled - _levels(ref).double()).abs()
    chosen = dist.gather(1, codes.long()[:, None])
    assert bool((chosen <= dist.min(dim=1, keepdim=True).values + 1e-7).all())


def test_value_on_a_float32_midpoint_takes_the_lower_level(ref):
    mids = (_levels(ref)[:-1] + _levels(ref)[1:]) / 2
    w = torch.cat([torch.tensor([1.0]), mids])
    codes, _ = ref.nf4_quantize(w, w.numel())
    assert codes.tolist() == [15] + list(range(15))


def test_all_zero_block_gives_absmax_0_and_code_7(ref):
    w = torch.zeros(2, 64, dtype=torch.float64)
    w[1] = _weights(3, 64)
    codes, absmax = ref.nf4_quantize(w, 64)
    assert float(absmax[0]) == 0.0 and codes[:64].tolist() == [7] * 64
    assert torch.equal(ref.nf4_dequantize(codes, absmax, (2, 64), 64)[0], torch.zeros(64))


def test_nf4_dequantize_is_the_level_times_the_block_absmax(ref):
    g = torch.Generator().manual_seed(4)
    codes = torch.randint(0, 16, (120,), generator=g).to(torch.uint8)
    absmax = torch.rand(5, generator=g, dtype=torch.float32)
    out = ref.nf4_dequantize(codes, absmax, (10, 12), 24)
    levels = _levels(ref)
    expected = torch.tensor([float(levels[int(c)] * absmax[i // 24]) for i, c in enumerate(codes)]).reshape(10, 12)
    assert out.dtype == torch.float32 and torch.equal(out, expected)


def test_pack_nibbles_matches_python_bit_arithmetic(ref):
    g = torch.Generator().manual_seed(5)
    codes = torch.randint(0, 16, (50,), generator=g).to(torch.uint8)
    packed = ref.pack_nibbles(codes)
    c = codes.tolist()
    assert packed.dtype == torch.uint8
    assert packed.tolist() == [(c[2 * i] << 4) | c[2 * i + 1] for i in range(25)]
    assert torch.equal(ref.unpack_nibbles(packed), codes)
    every_byte = torch.arange(256).to(torch.uint8)
    assert torch.equal(ref.pack_nibbles(ref.unpack_nibbles(every_byte)), every_byte)


def test_bad_sizes_raise_value_error(ref):
    with pytest.raises(ValueError, match="blocksize"):
        ref.nf4_quantize(torch.zeros(10, 10), 64)
    with pytest.raises(ValueError, match="blocksize"):
        ref.nf4_dequantize(torch.zeros(96, dtype=torch.uint8), torch.ones(2), (96,), 64)
    with pytest.raises(ValueError, match="codes"):
        ref.pack_nibbles(torch.zeros(7, dtype=torch.uint8))


def test_matches_bitsandbytes_quantize_4bit(ref):
    bnbf = pytest.importorskip("bitsandbytes.functional")
    for seed, shape in [(6, (32, 128)), (7, (3, 64))]:
        w = _weights(seed, *shape).to(torch.float32)
        packed, state = bnbf.quantize_4bit(w, blocksize=64, quant_type="nf4")
        codes, absmax = ref.nf4_quantize(w, 64)
        assert torch.equal(packed.reshape(-1), ref.pack_nibbles(codes))
        assert torch.equal(state.absmax, absmax)
        assert torch.equal(bnbf.dequantize_4bit(packed, state).reshape(shape), ref.nf4_dequantize(codes, absmax, shape, 64))
