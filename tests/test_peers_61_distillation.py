"""Question 61's reference against independent peers: F.kl_div(..., "batchmean") * T**2 + F.cross_entropy, a
hand-written sum p (log p - log q), and the soft-target gradient of Hinton et al. (2015)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(61)).load_reference()


def _inputs(seed, N=6, C=9):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(N, C, generator=g, dtype=torch.float64) * 2
    t = torch.randn(N, C, generator=g, dtype=torch.float64) * 3
    return s, t, torch.randint(0, C, (N,), generator=g)


@pytest.mark.parametrize("T,alpha", [(4.0, 0.7), (1.0, 0.5), (2.5, 0.0), (8.0, 1.0)])
def test_reference_matches_torch_kl_div_batchmean_times_T_squared_plus_cross_entropy(ref, T, alpha):
    s, t, y = _inputs(0)
    peer = alpha * T ** 2 * F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean") \
        + (1 - alpha) * F.cross_entropy(s, y)
    torch.testing.assert_close(ref.distillation_loss(s, t, y, T, alpha), peer, rtol=1e-12, atol=1e-12)


def test_reference_matches_the_kl_written_by_hand(ref):
    s, t, y = _inputs(1)
    T, alpha = 4.0, 0.7
    p, q = torch.softmax(t / T, -1), torch.softmax(s / T, -1)
    kl = (p * (p.log() - q.log())).sum(-1).mean()
    ce = -torch.log_softmax(s, -1)[torch.arange(len(y)), y].mean()
    torch.testing.assert_close(ref.distillation_loss(s, t, y, T, alpha), alpha * T * T * kl + (1 - alpha) * ce,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("T", [2.0, 8.0, 32.0])
def test_soft_target_gradient_is_T_times_q_minus_p_over_N_and_does_not_reach_the_teacher(ref, T):
    s, t, y = _inputs(2)
    s.requires_grad_(True)
    t.requires_grad_(True)
    ref.distillation_loss(s, t, y, T, 1.0).backward()
    expected = T * (torch.softmax(s.detach() / T, -1) - torch.softmax(t.detach() / T, -1)) / s.shape[0]
    torch.testing.assert_close(s.grad, expected, rtol=1e-10, atol=1e-12)
    assert t.grad is None


def test_T_squared_keeps_the_soft_gradient_magnitude_as_T_grows(ref):
    # Hinton et al.: soft-target gradients scale as 1/T^2, which the T^2 factor undoes (zero-mean logits).
    s, t, y = _inputs(3)
    s, t = s - s.mean(-1, keepdim=True), t - t.mean(-1, keepdim=True)
    norms = []
    for T in (8.0, 32.0, 128.0):
        leaf = s.clone().requires_grad_(True)
        ref.distillation_loss(leaf, t, y, T, 1.0).backward()
        norms.append(float(leaf.grad.norm()))
    assert max(norms) / min(norms) < 1.1
    # ... and approach (z - v) / (N * C) in the high-temperature limit (eq. 4 times T^2, averaged over N rows).
    approx = (s - t) / (s.shape[0] * s.shape[1])
    assert float((leaf.grad - approx).norm() / approx.norm()) < 0.02


def test_row_shifts_of_1e5_leave_the_float64_loss_unchanged_and_break_float32(ref):
    # The suite shifts float64 rows by ~1e5: softmax and the cross-entropy ignore a per-row constant.
    s, t, y = _inputs(4)
    g = torch.Generator().manual_seed(9)
    s_shift = s + torch.randn(s.shape[0], 1, generator=g, dtype=torch.float64) * 1e5
    t_shift = t + torch.randn(t.shape[0], 1, generator=g, dtype=torch.float64) * 1e5
    base = ref.distillation_loss(s, t, y, 4.0, 0.7)
    torch.testing.assert_close(ref.distillation_loss(s_shift, t_shift, y, 4.0, 0.7), base, rtol=1e-11, atol=0)
    in_float32 = ref.distillation_loss(s_shift.float(), t_shift.float(), y, 4.0, 0.7).double()
    assert abs(float(in_float32 - base)) / float(base) > 1e-5
