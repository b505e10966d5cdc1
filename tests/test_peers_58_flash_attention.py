"""The reference of question 58 against independent peers (facts.md Q58 (e)), in float64: SDPA with an explicit
bottom-right mask and torch.logsumexp; block-size independence; no NaN on fully masked tiles."""

import math

import pytest
import torch
import torch.nn.functional as F

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(58)).load_reference()


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(58)


def _close(a, b, tol=1e-12):
    # (torch.testing.assert_close would cost seconds of first-call imports.)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    err = float(((a - b).abs() - tol * b.abs()).max()) if a.numel() else 0.0
    assert err <= tol, f"max error {err:.3g} > {tol:g}"


def _sdpa_peer(q, k, v, causal):
    Tq, Tk, D = q.shape[2], k.shape[2], q.shape[3]
    mask = None
    if causal:  # bottom-right: query i sees keys j <= i + Tk - Tq
        mask = torch.arange(Tk)[None, :] <= torch.arange(Tq)[:, None] + (Tk - Tq)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask), torch.logsumexp(scores, dim=-1)


def _qkv(gen, B, H, Tq, Tk, D):
    q = torch.randn(B, H, Tq, D, generator=gen, dtype=torch.float64) * 3  # the running max changes between blocks
    k = torch.randn(B, H, Tk, D, generator=gen, dtype=torch.float64)
    v = torch.randn(B, H, Tk, D, generator=gen, dtype=torch.float64)
    return q, k, v


@pytest.mark.parametrize("Tq,Tk,causal", [(50, 50, False), (50, 50, True), (3, 7, True), (7, 3, False), (17, 40, True),
                                          (1, 1, True)])
def test_flash_attention_matches_sdpa_with_bottom_right_mask_and_logsumexp(ref, gen, Tq, Tk, causal):
    q, k, v = _qkv(gen, 2, 3, Tq, Tk, 8)
    out, lse = ref.flash_attention_forward(q, k, v, 16, 16, causal)
    want_out, want_lse = _sdpa_peer(q, k, v, causal)
    _close(out, want_out, tol=1e-10)
    _close(lse, want_lse, tol=1e-10)


def test_flash_attention_equals_sdpa_is_causal_when_square(ref, gen):
    q, k, v = _qkv(gen, 1, 2, 33, 33, 4)
    out, _ = ref.flash_attention_forward(q, k, v, 8, 8, True)
    _close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), tol=1e-10)


@pytest.mark.parametrize("block_q,block_k", [(1, 1), (1, 64), (64, 1), (7, 5), (16, 16), (200, 300)])
def test_flash_attention_does_not_depend_on_block_sizes(ref, block_q, block_k):
    q, k, v = _qkv(torch.Generator().manual_seed(580), 1, 2, 23, 30, 8)
    want_out, want_lse = _sdpa_peer(q, k, v, True)
    out, lse = ref.flash_attention_forward(q, k, v, block_q, block_k, True)
    assert not torch.isnan(out).any() and not torch.isnan(lse).any()
    _close(out, want_out, tol=1e-10)
    _close(lse, want_lse, tol=1e-10)


def test_flash_attention_keeps_float32_and_float64(ref, gen):
    q, k, v = _qkv(gen, 1, 1, 9, 12, 4)
    for dtype in (torch.float32, torch.float64):
        out, lse = ref.flash_attention_forward(q.to(dtype), k.to(dtype), v.to(dtype), 4, 4, True)
        assert out.dtype == dtype and lse.dtype == dtype
        assert out.shape == (1, 1, 9, 4) and lse.shape == (1, 1, 9)


def test_flash_attention_rejects_bad_arguments(ref):
    q = torch.zeros(1, 2, 5, 4)
    with pytest.raises(ValueError, match="causal"):
        ref.flash_attention_forward(q, torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4), causal=True)
    with pytest.raises(ValueError, match="block_q"):
        ref.flash_attention_forward(q, q, q, block_q=0)
    with pytest.raises(ValueError, match="block_k"):
        ref.flash_attention_forward(q, q, q, block_k=0)
    for bad in (torch.zeros(2, 2, 5, 4), torch.zeros(1, 3, 5, 4), torch.zeros(1, 2, 5, 3)):
        with pytest.raises(ValueError, match="k"):
            ref.flash_attention_forward(q, bad, q)
        with pytest.raises(ValueError, match="v"):
            ref.flash_attention_forward(q, q, bad)
