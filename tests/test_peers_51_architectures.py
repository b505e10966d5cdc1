"""The reference of question 51 against independent peers (facts.md Q51 (e)) and exact invariants, in float64."""

import math

import pytest
import torch
import torch.nn.functional as F

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(51)).load_reference()


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(51)


def _close(a, b, tol=1e-12):
    # (torch.testing.assert_close would cost seconds of first-call imports.)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    err = float(((a - b).abs() - tol * b.abs()).max()) if a.numel() else 0.0
    assert err <= tol, f"max error {err:.3g} > {tol:g}"


def test_rms_norm_matches_torch_rms_norm(ref, gen):
    for shape in [(5, 7), (2, 3, 16), (4, 1)]:
        x = torch.randn(*shape, generator=gen, dtype=torch.float64) * 3 + 1.5
        w = torch.randn(shape[-1], generator=gen, dtype=torch.float64)
        for eps in (1e-6, 1e-5, 0.0):
            _close(ref.rms_norm(x, w, eps), F.rms_norm(x, (shape[-1],), w, eps))


def test_rms_norm_keeps_float32(ref, gen):
    x = torch.randn(3, 8, generator=gen)
    w = torch.randn(8, generator=gen)
    out = ref.rms_norm(x, w)
    assert out.dtype == torch.float32
    _close(out, F.rms_norm(x, (8,), w, 1e-6), tol=1e-5)


def _complex_rope(x, positions, theta):
    # Meta's formulation (facebookresearch/llama model.py): freqs_cis = polar(1, outer(t, freqs)).
    D = x.shape[-1]
    freqs = 1.0 / theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D)
    angles = torch.outer(positions.to(torch.float64), freqs)
    freqs_cis = torch.polar(torch.ones_like(angles), angles)
    xc = torch.view_as_complex(x.reshape(*x.shape[:-1], D // 2, 2).contiguous())
    return torch.view_as_real(xc * freqs_cis).flatten(-2)


@pytest.mark.parametrize("theta", [10000.0, 500000.0])
def test_apply_rope_matches_complex_multiplication(ref, gen, theta):
    x = torch.randn(2, 3, 11, 16, generator=gen, dtype=torch.float64)
    positions = torch.randint(0, 10_000, (11,), generator=gen)
    _close(ref.apply_rope(x, positions, theta), _complex_rope(x, positions, theta), tol=1e-9)


def test_apply_rope_preserves_pair_norms_and_relative_dot_products(ref, gen):
    D, T = 12, 8
    x = torch.randn(T, D, generator=gen, dtype=torch.float64)
    positions = torch.randint(0, 10_000, (T,), generator=gen)
    out = ref.apply_rope(x, positions)
    _close(out.reshape(T, -1, 2).norm(dim=-1), x.reshape(T, -1, 2).norm(dim=-1))
    q, k = torch.randn(D, generator=gen, dtype=torch.float64), torch.randn(D, generator=gen, dtype=torch.float64)
    Q, K = q.expand(T, D).clone(), k.expand(T, D).clone()
    m, n = torch.randint(0, 5000, (T,), generator=gen), torch.randint(0, 5000, (T,), generator=gen)
    dots = (ref.apply_rope(Q, m) * ref.apply_rope(K, n)).sum(-1)
    shifted = (ref.apply_rope(Q, m + 777) * ref.apply_rope(K, n + 777)).sum(-1)
    _close(shifted, dots, tol=1e-9)


def test_apply_rope_rotates_the_first_pair_by_the_position_in_radians(ref):
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
    out = ref.apply_rope(x, torch.tensor([3]))
    _close(out, torch.tensor([[math.cos(3), math.sin(3), math.cos(0.03), math.sin(0.03)]], dtype=torch.float64))


def test_apply_rope_rejects_odd_head_dim(ref):
    with pytest.raises(ValueError, match="D"):
        ref.apply_rope(torch.zeros(2, 5), torch.arange(2))


def test_swiglu_ffn_matches_explicit_linear_layers(ref, gen):
    d, h = 8, 20
    x = torch.randn(3, 5, d, generator=gen, dtype=torch.float64)
    w1, w3 = (torch.randn(h, d, generator=gen, dtype=torch.float64) for _ in range(2))
    w2 = torch.randn(d, h, generator=gen, dtype=torch.float64)
    lin1, lin2, lin3 = (torch.nn.Linear(1, 1, bias=False, dtype=torch.float64) for _ in range(3))
    with torch.no_grad():
        lin1.weight = torch.nn.Parameter(w1)
        lin2.weight = torch.nn.Parameter(w2)
        lin3.weight = torch.nn.Parameter(w3)
        expected = lin2(torch.nn.SiLU()(lin1(x)) * lin3(x))
    _close(ref.swiglu_ffn(x, w1, w2, w3), expected)


def test_repeat_kv_matches_sdpa_grouped_query_attention(ref, gen):
    B, H, Hkv, T, D = 2, 6, 2, 7, 8
    q = torch.randn(B, H, T, D, generator=gen, dtype=torch.float64)
    k, v = (torch.randn(B, Hkv, T, D, generator=gen, dtype=torch.float64) for _ in range(2))
    got = F.scaled_dot_product_attention(q, ref.repeat_kv(k, H // Hkv), ref.repeat_kv(v, H // Hkv), is_causal=True)
    want = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    _close(got, want)


def test_repeat_kv_maps_query_head_h_to_kv_head_h_div_n_rep(ref, gen):
    kv = torch.randn(2, 3, 4, 5, generator=gen, dtype=torch.float64)
    out = ref.repeat_kv(kv, 4)
    assert out.shape == (2, 12, 4, 5)
    for h in range(12):
        assert torch.equal(out[:, h], kv[:, h // 4])
    with pytest.raises(ValueError, match="n_rep"):
        ref.repeat_kv(kv, 0)
