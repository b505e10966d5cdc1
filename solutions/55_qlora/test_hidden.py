"""Hidden suite for question 55 (qlora): NF4 block quantization and nibble packing.

Random weights are nudged away from the NF4 midpoints (in units of the block's absmax), so that
dividing by absmax and multiplying by 1/absmax (bitsandbytes' CUDA kernel) give the same codes; the
exact midpoint rule (a value ON a float32 midpoint takes the lower level) has its own hand-built case
with power-of-two absmax, where both readings are exact.

Every default is used where it matters (blocksize 64 on a weight of 6 * 64 elements, where 32 or 128
give another number of blocks), every tensor input also arrives non-contiguous (a transposed weight,
whose row-major flattening is not its storage order; strided codes, absmax and bytes), and the
dtypes the contract states are checked (codes and bytes uint8, absmax and dequantized weights
float32, also for a float64 weight).
"""

import pytest
import torch

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    GraderError,
    assert_close,
    assert_equal,
    describe,
    expect_tuple,
    expect_value_error,
    explained,
    non_contiguous,
    points,
    randn,
)

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
       -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
       0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
       0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]
LEVELS32 = torch.tensor(NF4, dtype=torch.float32)
MIDPOINTS32 = (LEVELS32[:-1] + LEVELS32[1:]) / 2  # the contract's float32 midpoints
GUARD = 1e-5  # random values stay this far (in absmax units) from every midpoint

# (shape, blocksize): the facts' 32x128 case, blocks that span rows (also rows longer than a block that
# do not divide by it), odd sizes, 1-D and 3-D inputs,
# a block size that is not a power of two, a single block, blocksize 1.
QUANT_CASES = [((32, 128), 64), ((3, 64), 64), ((5, 24), 8), ((12, 10), 40), ((4, 40), 32), ((2, 3, 32), 16),
               ((7, 9), 21), ((1, 64), 64), ((128,), 64), ((6,), 1)]


def _away_from_midpoints(w: torch.Tensor, blocksize: int) -> torch.Tensor:
    """Move values whose w / absmax lies within GUARD of an NF4 midpoint by 5 * GUARD * absmax."""
    w = w.clone()
    for _ in range(4):
        blocks = w.to(torch.float32).double().reshape(-1, blocksize)
        absmax = blocks.abs().amax(dim=1, keepdim=True)
        scaled = blocks / absmax.clamp_min(1e-300)
        near = ((scaled[..., None] - MIDPOINTS32.double()).abs() < GUARD).any(dim=-1)
        if not near.any():
            return w
        shift = torch.where(near, 5 * GUARD * absmax, torch.zeros_like(blocks))
        w = (w.double().reshape(-1, blocksize) + shift).reshape(w.shape).to(w.dtype)
    raise GraderError("could not move the random weights away from the NF4 midpoints")


def _quantize(submission, w, *blocksize):
    return expect_tuple(submission.nf4_quantize(w, *blocksize), 2, "nf4_quantize", "(codes, absmax)")


def _weights(rng, shape, blocksize, dtype):
    w = randn(rng, *shape, dtype=dtype, scale=0.02)
    # a few outliers, as real weights have, so that blocks have different absmax
    flat = w.reshape(-1)
    picks = torch.randint(0, flat.numel(), (max(1, flat.numel() // 50),), generator=rng)
    flat[picks] *= 8.0
    return _away_from_midpoints(w, blocksize)


@points(16)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape,blocksize", QUANT_CASES)
def test_nf4_quantize_matches_reference(submission, reference, rng, shape, blocksize, dtype):
    w = _weights(rng, shape, blocksize, dtype)
    codes, absmax = _quantize(submission, w, blocksize)
    want_codes, want_absmax = reference.nf4_quantize(w, blocksize)
    context = "for " + describe(w=w, blocksize=blocksize)
    assert_close(absmax, want_absmax, name="absmax (float32, one per block)", rtol=0, atol=0,
                 context=context + " (max |w| of each block of the row-major flattening)")
    assert_equal(codes, want_codes, name="NF4 codes (uint8, flattened row-major)", context=context)


@points(6)
@pytest.mark.parametrize("shape,blocksize", [((16, 64), 64), ((9, 40), 24)])
def test_nf4_codes_are_the_nearest_level(submission, rng, shape, blocksize):
    # Property check, independent of the reference: every code names the NF4 level nearest to w / absmax.
    w = _weights(rng, shape, blocksize, torch.float32)
    codes, absmax = _quantize(submission, w, blocksize)
    blocks = w.double().reshape(-1, blocksize)
    assert_close(absmax, blocks.abs().amax(dim=1).float(), name="absmax", rtol=0, atol=0,
                 context="for " + describe(w=w, blocksize=blocksize) + " (max |w| over each block)")
    if codes.dtype != torch.uint8 or codes.shape != (w.numel(),):
        raise AssertionError(f"codes: expected uint8 of shape [{w.numel()}], got {codes.dtype} {list(codes.shape)}")
    if int(codes.max()) > 15:
        raise AssertionError(f"codes: a code of {int(codes.max())} is outside 0..15")
    scaled = (blocks / blocks.abs().amax(dim=1, keepdim=True)).reshape(-1)
    nearest = (scaled[:, None] - LEVELS32.double()).abs().argmin(dim=1).to(torch.uint8)
    assert_equal(codes, nearest, name="NF4 codes", context="for " + describe(w=w, blocksize=blocksize) + " (each value must map to its NEAREST NF4 level, "
                 "not the level below it, and the levels are NF4's, not a uniform grid)")


@points(7)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("absmax", [1.0, 0.25, 4.0])
def test_nf4_quantize_midpoint_takes_the_lower_level(submission, absmax, dtype):
    # Block: +absmax or -absmax first (so absmax is exact), then every float32 midpoint * absmax (exact,
    # powers of two), then the same midpoints mirrored. Midpoint i lies between levels i and i + 1.
    mids = MIDPOINTS32 * absmax
    row = torch.cat([torch.tensor([absmax]), mids, torch.tensor([-absmax]), -mids.flip(0)])
    w = row.reshape(1, -1).to(dtype)
    codes, got_absmax = _quantize(submission, w, w.numel())
    want = torch.cat([torch.tensor([15]), torch.arange(15), torch.tensor([0]),
                      torch.bucketize(-MIDPOINTS32.flip(0), MIDPOINTS32)]).to(torch.uint8)
    assert_close(got_absmax, torch.tensor([absmax], dtype=torch.float32), name="absmax", rtol=0, atol=0)
    assert_equal(codes, want, name="codes of values exactly on a midpoint", context=(
        "for " + describe(w=w, blocksize=w.numel()) + " (the code is the number of float32 midpoints "
        "(NF4[i] + NF4[i+1]) / 2 strictly below the value, so a value equal to a midpoint takes the lower level, "
        "as torch.bucketize and bitsandbytes' CUDA kernel (x > threshold) do; an argmin of |x - NF4| does not)"))


@points(5)
def test_nf4_quantize_rounds_float64_input_to_float32_first(submission):
    # Just above a float32 midpoint in float64, but exactly ON it once converted to float32.
    eps = 1e-12
    mids = MIDPOINTS32.double()
    w = torch.cat([torch.tensor([1.0], dtype=torch.float64), mids + eps, -(mids.flip(0)) + eps]).reshape(1, -1)
    codes, absmax = _quantize(submission, w, w.numel())
    want = torch.cat([torch.tensor([15]), torch.arange(15),
                      torch.bucketize(-MIDPOINTS32.flip(0), MIDPOINTS32)]).to(torch.uint8)
    assert_close(absmax, torch.tensor([1.0], dtype=torch.float32), name="absmax", rtol=0, atol=0,
                 context="(float32 even for a float64 input)")
    assert_equal(codes, want, name="codes of a float64 input", context=(
        "(convert w to float32 FIRST: these float64 values lie 1e-12 above a midpoint and become the "
        "midpoint itself in float32, which takes the lower level)"))


@points(6)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nf4_quantize_all_zero_block_has_absmax_0_and_code_7(submission, rng, dtype):
    w = _weights(rng, (4, 32), 32, dtype)
    w[1] = 0.0
    w[3, :] = 0.0
    codes, absmax = _quantize(submission, w, 32)
    if torch.isnan(absmax).any():
        raise AssertionError("absmax: NaN values")
    assert_equal(codes.reshape(4, 32)[[1, 3]], torch.full((2, 32), 7, dtype=torch.uint8),
                 name="codes of the all-zero blocks", context="(0 / 0 must not happen: an all-zero block "
                 "keeps absmax 0 and every value takes code 7, the level 0.0)")
    assert_close(absmax[[1, 3]], torch.zeros(2), name="absmax of the all-zero blocks")
    back = submission.nf4_dequantize(codes, absmax, (4, 32), 32)
    assert_close(back[[1, 3]], torch.zeros(2, 32), name="dequantized all-zero blocks")


@points(5)
def test_nf4_quantize_absmax_is_the_largest_magnitude_even_when_negative(submission):
    # The largest |w| of each block is negative; the largest signed value is much smaller.
    w = torch.tensor([[-0.9, 0.3, 0.5, -0.1, 0.05, -0.4, 0.2, 0.0],
                      [0.02, -0.07, -0.01, 0.03, -0.05, 0.04, 0.01, -0.02]], dtype=torch.float32)
    codes, absmax = _quantize(submission, w, 8)
    assert_close(absmax, torch.tensor([0.9, 0.07]), name="absmax", rtol=0, atol=0,
                 context="for " + describe(w=w, blocksize=8) + " (absmax is max |w|: in both blocks the largest magnitude is a negative value)")
    scaled = w.double() / torch.tensor([[0.9], [0.07]], dtype=torch.float32).double()
    want = (scaled.reshape(-1, 1) - LEVELS32.double()).abs().argmin(dim=1).to(torch.uint8)
    assert_equal(codes, want, name="codes")


@points(6)
@pytest.mark.parametrize("blocksize", [16, 8])
def test_nf4_quantize_blocks_follow_the_row_major_flattening(submission, blocksize):
    # Rows with very different scales; blocks run along rows (row-major flatten), so each block's
    # absmax comes from one row. Per-tensor absmax or blocks down the columns give other values.
    base = torch.tensor([0.9, -0.2, 0.45, 0.05, -0.6, 0.3, -0.03, 0.15, 0.7, -0.35, 0.01, -0.5,
                         0.25, -0.8, 0.1, 0.6], dtype=torch.float32)
    scales = torch.tensor([1.0, 0.01, 3.0, 0.1], dtype=torch.float32)
    w = scales[:, None] * base.roll(3)[None, :] * torch.tensor([1.0, -1.0, 1.0, -1.0])[:, None]
    codes, absmax = _quantize(submission, w, blocksize)
    blocks = w.reshape(-1, blocksize)
    want_absmax = blocks.abs().amax(dim=1)
    want_codes = (((blocks.double() / want_absmax.double()[:, None]).reshape(-1, 1) - LEVELS32.double())
                  .abs().argmin(dim=1).to(torch.uint8))
    assert_close(absmax, want_absmax, name="absmax", rtol=0, atol=0,
                 context="for " + describe(w=w, blocksize=blocksize) + " (blocks are consecutive elements of w.reshape(-1))")
    assert_equal(codes, want_codes, name="codes", context="(in the order of w.reshape(-1))")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nf4_quantize_and_dequantize_default_blocksize_is_64(submission, reference, rng, dtype):
    # 6 * 64 elements: blocksize 64 gives 6 blocks, 32 gives 12 and 128 gives 3.
    w = _weights(rng, (3, 128), 64, dtype)
    with explained("nf4_quantize(w) and nf4_dequantize(codes, absmax, shape) without blocksize use the "
                   "default blocksize = 64 (QLoRA's), so absmax has numel // 64 = 6 entries here"):
        codes, absmax = _quantize(submission, w)
        want_codes, want_absmax = reference.nf4_quantize(w, 64)
        context = "for " + describe(w=w)
        assert_close(absmax, want_absmax, name="absmax with the default blocksize", rtol=0, atol=0, context=context)
        assert_equal(codes, want_codes, name="codes with the default blocksize", context=context)
        back = submission.nf4_dequantize(want_codes, want_absmax, (3, 128))
        assert_close(back, reference.nf4_dequantize(want_codes, want_absmax, (3, 128), 64),
                     name="nf4_dequantize with the default blocksize",
                     context="for " + describe(codes=want_codes, absmax=want_absmax, shape=(3, 128)))


def _laid_out(w, layout):
    """``w`` in another memory layout (authoring helper): "transposed" (a [rows, cols] view of a stored
    [cols, rows] tensor: w.reshape(-1) is then not the storage order), "strided" (suite.non_contiguous)
    or "expanded" (row 0 broadcast, stride 0)."""
    if layout == "transposed":
        return w.transpose(-1, -2).contiguous().transpose(-1, -2)
    if layout == "strided":
        return non_contiguous(w)
    return w[:1].expand(w.shape)


@points(6)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", ["transposed", "strided", "expanded"])
def test_nf4_quantize_non_contiguous_weight(submission, reference, rng, layout, dtype):
    # Blocks of 24 span rows of 40: a transposed weight must still be cut along w.reshape(-1). (An
    # expanded weight repeats row 0, so there the blocks are whole rows and stay away from midpoints.)
    blocksize = 40 if layout == "expanded" else 24
    w = _laid_out(_weights(rng, (6, 40), blocksize, dtype), layout)
    codes, absmax = _quantize(submission, w, blocksize)
    want_codes, want_absmax = reference.nf4_quantize(w, blocksize)
    context = "for " + describe(w=w, blocksize=blocksize) + " (blocks follow w.reshape(-1), whatever w's strides are)"
    assert_close(absmax, want_absmax, name="absmax", rtol=0, atol=0, context=context)
    assert_equal(codes, want_codes, name="codes", context=context)


@points(5)
@pytest.mark.parametrize("function", ["nf4_dequantize", "pack_nibbles", "unpack_nibbles"])
def test_non_contiguous_codes_absmax_and_bytes(submission, reference, rng, function):
    codes = non_contiguous(torch.randint(0, 16, (96,), generator=rng).to(torch.uint8))
    if function == "nf4_dequantize":
        absmax = non_contiguous(torch.rand(4, generator=rng) + 0.1)
        got = submission.nf4_dequantize(codes, absmax, (8, 12), 24)
        assert_close(got, reference.nf4_dequantize(codes, absmax, (8, 12), 24), name="dequantized weight",
                     context="for " + describe(codes=codes, absmax=absmax, shape=(8, 12), blocksize=24))
    elif function == "pack_nibbles":
        assert_equal(submission.pack_nibbles(codes), reference.pack_nibbles(codes), name="packed bytes",
                     context="for " + describe(codes=codes) + " (codes may be non-contiguous: use .reshape, not .view)")
    else:
        packed = non_contiguous(torch.randint(0, 256, (40,), generator=rng).to(torch.uint8))
        assert_equal(submission.unpack_nibbles(packed), reference.unpack_nibbles(packed), name="unpacked codes",
                     context="for " + describe(packed=packed) + " (packed may be non-contiguous)")


@points(7)
@pytest.mark.parametrize("shape,blocksize", [((32, 128), 64), ((5, 24), 8), ((2, 3, 32), 16), ((63,), 21)])
def test_nf4_dequantize_matches_reference(submission, reference, rng, shape, blocksize):
    n = 1
    for s in shape:
        n *= s
    codes = torch.randint(0, 16, (n,), generator=rng).to(torch.uint8)
    absmax = (torch.rand(n // blocksize, generator=rng) * 0.3 + 0.01).to(torch.float32)
    absmax[0] = 0.0
    got = submission.nf4_dequantize(codes, absmax, shape, blocksize)
    assert_close(got, reference.nf4_dequantize(codes, absmax, shape, blocksize), name="dequantized weight",
                 context="for " + describe(codes=codes, absmax=absmax, shape=shape, blocksize=blocksize) + " (float32, NF4[code] * absmax of its block, blocks row-major)")


@points(6)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nf4_dequantize_inverts_nf4_quantize_to_half_a_level_gap(submission, rng, dtype):
    # Invariants: the error of each value is at most half the gap to the next NF4 level (times absmax),
    # and re-quantizing the dequantized weight gives the same codes and absmax.
    shape, blocksize = (6, 48), 32
    w = _weights(rng, shape, blocksize, dtype)
    codes, absmax = _quantize(submission, w, blocksize)
    back = submission.nf4_dequantize(codes, absmax, shape, blocksize)
    if back.dtype != torch.float32 or tuple(back.shape) != shape:
        raise AssertionError(f"nf4_dequantize: expected float32 of shape {list(shape)}, "
                             f"got {back.dtype} {list(back.shape)}")
    gaps = (LEVELS32[1:] - LEVELS32[:-1]).double()
    max_half_gap = float(gaps.max()) / 2
    err = (back.double() - w.to(torch.float32).double()).reshape(-1, blocksize).abs()
    bound = absmax.double()[:, None] * max_half_gap * (1 + 1e-6) + 1e-12
    if not bool((err <= bound).all()):
        raise AssertionError(f"round trip: |dequantize(quantize(w)) - w| reaches {float(err.max()):.4g}, more than half "
                             f"the widest NF4 gap times absmax ({float(bound.max()):.4g})")
    codes2, absmax2 = _quantize(submission, back, blocksize)
    assert_equal(codes2, codes, name="codes after re-quantizing the dequantized weight",
                 context="(NF4 levels are fixed points of the quantizer)")
    assert_close(absmax2, absmax, name="absmax after re-quantizing", rtol=0, atol=0)


@points(6)
def test_pack_nibbles_puts_element_2i_in_the_high_nibble(submission, rng):
    codes = torch.tensor([1, 2, 15, 0, 7, 8, 0, 15], dtype=torch.uint8)
    got = submission.pack_nibbles(codes)
    assert_equal(got, torch.tensor([0x12, 0xF0, 0x78, 0x0F], dtype=torch.uint8), name="packed bytes",
                 context="(codes [1, 2, 15, 0, 7, 8, 0, 15]: byte i = codes[2i] << 4 | codes[2i+1])")
    codes = torch.randint(0, 16, (130,), generator=rng).to(torch.uint8)
    want = (codes[0::2].long() * 16 + codes[1::2].long()).to(torch.uint8)
    assert_equal(submission.pack_nibbles(codes), want, name="packed bytes (130 random codes)")


@points(6)
def test_unpack_nibbles_inverts_pack_nibbles(submission, rng):
    packed = torch.tensor([0x12, 0xF0, 0x78, 0x0F, 0xA5], dtype=torch.uint8)
    assert_equal(submission.unpack_nibbles(packed), torch.tensor([1, 2, 15, 0, 7, 8, 0, 15, 10, 5], dtype=torch.uint8),
                 name="unpacked codes", context="(the high nibble of byte i is element 2i)")
    every_byte = torch.arange(256).to(torch.uint8)
    want = torch.stack([every_byte.long() // 16, every_byte.long() % 16], dim=1).reshape(-1).to(torch.uint8)
    assert_equal(submission.unpack_nibbles(every_byte), want, name="unpacked codes of all 256 bytes")
    codes = torch.randint(0, 16, (96,), generator=rng).to(torch.uint8)
    assert_equal(submission.unpack_nibbles(submission.pack_nibbles(codes)), codes,
                 name="unpack_nibbles(pack_nibbles(codes))")


# (function, case): numel not divisible by blocksize involves w (or codes) and blocksize; an odd n
# involves codes.
BAD_SIZES = [("nf4_quantize", "numel 100, blocksize 64"), ("nf4_quantize", "numel 64, blocksize 48"),
             ("nf4_dequantize", "numel 96, blocksize 64"), ("pack_nibbles", "odd n = 7")]


@points(8)
@pytest.mark.parametrize("function,case", BAD_SIZES)
def test_rejects_bad_sizes(submission, rng, function, case):
    if case == "numel 100, blocksize 64":
        with expect_value_error("blocksize", "w"):
            submission.nf4_quantize(randn(rng, 10, 10, dtype=torch.float32), 64)
    elif case == "numel 64, blocksize 48":
        with expect_value_error("blocksize", "w"):
            submission.nf4_quantize(randn(rng, 4, 16, dtype=torch.float32), 48)
    elif function == "nf4_dequantize":
        codes = torch.randint(0, 16, (96,), generator=rng).to(torch.uint8)
        with expect_value_error("blocksize", "codes"):
            submission.nf4_dequantize(codes, torch.ones(2), (8, 12), 64)
    else:
        with expect_value_error("codes"):
            submission.pack_nibbles(torch.randint(0, 16, (7,), generator=rng).to(torch.uint8))
