"""Hidden suite for question 61 (distillation). Runs in the trusted process; see quizgen.grading.suite.

Most cases use T = 4 and alpha = 0.7 (facts.md: T = 1 hides the T**2 and temperature mistakes, alpha = 0.5
hides alpha swaps). Besides the reference, the loss is checked against a hand-written
sum p (log p - log q), the exact soft-target gradient T * (q - p) / N, plain F.cross_entropy at alpha = 0,
and shift invariance in float64. Gradients come from the worker (harness "grad").
"""

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import FLOAT_DTYPES, assert_close, expect_value_error, points, randn

# (N, C, T, alpha): one row, two classes, T < 1, alpha near the ends.
CASES = [(8, 10, 4.0, 0.7), (1, 3, 4.0, 0.7), (5, 7, 2.5, 0.3), (16, 32, 4.0, 0.7), (6, 2, 0.5, 0.9), (4, 5, 8.0, 0.1)]


def _inputs(rng, N, C, dtype, student_scale=2.0, teacher_scale=3.0):
    student = randn(rng, N, C, dtype=dtype, scale=student_scale)
    teacher = randn(rng, N, C, dtype=dtype, scale=teacher_scale)
    labels = torch.randint(0, C, (N,), generator=rng)
    return student, teacher, labels


def _by_hand(student, teacher, labels, T, alpha):
    """alpha * T^2 * mean_n sum_c p (log p - log q) + (1 - alpha) * mean_n -log softmax(student)[label]."""
    log_q = student / T - torch.logsumexp(student / T, dim=-1, keepdim=True)
    log_p = teacher / T - torch.logsumexp(teacher / T, dim=-1, keepdim=True)
    kl = (log_p.exp() * (log_p - log_q)).sum(dim=-1).mean()
    log_probs = student - torch.logsumexp(student, dim=-1, keepdim=True)
    ce = -log_probs.gather(-1, labels[:, None]).mean()
    return alpha * T ** 2 * kl + (1 - alpha) * ce


def _case(N, C, T, alpha):
    return f"(N={N}, C={C}, T={T}, alpha={alpha})"


@points(25)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("N,C,T,alpha", CASES)
def test_distillation_loss_matches_reference(submission, reference, rng, N, C, T, alpha, dtype):
    s, t, y = _inputs(rng, N, C, dtype)
    loss = submission.distillation_loss(s, t, y, T, alpha)
    assert_close(loss, reference.distillation_loss(s, t, y, T, alpha), name="distillation loss", loose=4.0,
                 context=_case(N, C, T, alpha) + ": alpha * T^2 * KL(p_teacher || p_student) (batchmean) "
                                                 "+ (1 - alpha) * CE(student at T = 1)")


@points(10)
@pytest.mark.parametrize("N,C", [(6, 5), (3, 12)])
def test_distillation_loss_matches_the_kl_written_by_hand(submission, rng, N, C):
    s, t, y = _inputs(rng, N, C, torch.float64)
    loss = submission.distillation_loss(s, t, y, 4.0, 0.7)
    assert_close(loss, _by_hand(s, t, y, 4.0, 0.7), name="distillation loss",
                 context=f"(N={N}, C={C}, T=4, alpha=0.7; by hand: 0.7 * 16 * mean_n sum_c p (log p - log q) "
                         "+ 0.3 * mean_n CE, p the teacher's and q the student's softmax at T)")


def _grads(submission, s, t, y, T, alpha, g=1.0):
    return submission.harness("grad", "distillation_loss", s, t, y, T, alpha,
                              params={"requires_grad": [0, 1], "grad_output": torch.tensor(g, dtype=s.dtype)})


@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("N,C,T,alpha", [(7, 6, 4.0, 0.7), (2, 9, 2.0, 0.4)])
def test_student_gradient_matches_reference(submission, reference, rng, N, C, T, alpha, dtype):
    s, t, y = _inputs(rng, N, C, dtype)
    got = _grads(submission, s, t, y, T, alpha, g=1.5)
    leaf = s.clone().requires_grad_(True)
    (1.5 * reference.distillation_loss(leaf, t, y, T, alpha)).backward()
    if got["grads"][0] is None:
        raise AssertionError(f"no gradient reached student_logits {_case(N, C, T, alpha)}")
    assert_close(got["grads"][0], leaf.grad, name="gradient of student_logits", loose=4.0,
                 context=_case(N, C, T, alpha))


@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_no_gradient_flows_into_the_teacher(submission, rng, dtype):
    s, t, y = _inputs(rng, 5, 7, dtype)
    got = _grads(submission, s, t, y, 4.0, 0.7)
    teacher_grad = got["grads"][1]
    if teacher_grad is not None and bool((teacher_grad != 0).any()):
        largest = float(teacher_grad.abs().max())
        raise AssertionError(f"a gradient reached teacher_logits (largest |grad| {largest:.3g}): "
                             "the teacher is a fixed target, detach it (teacher_logits.detach())")


@points(10)
@pytest.mark.parametrize("T", [4.0, 2.0, 10.0])
def test_soft_target_gradient_is_T_times_q_minus_p_over_N(submission, rng, T):
    # Hinton et al. eq. 2 with the T^2 factor: d/ds [T^2 * KL(p || q) / N] = T * (q - p) / N.
    N, C = 6, 8
    s, t, y = _inputs(rng, N, C, torch.float64)
    got = _grads(submission, s, t, y, T, 1.0)
    q, p = torch.softmax(s / T, dim=-1), torch.softmax(t / T, dim=-1)
    if got["grads"][0] is None:
        raise AssertionError("no gradient reached student_logits")
    assert_close(got["grads"][0], T * (q - p) / N, name="gradient of the soft term (alpha=1)",
                 context=f"(T={T}: T * (softmax(s/T) - softmax(t/T)) / N; without T^2 it would be T^2 times smaller)")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_alpha_0_is_the_plain_cross_entropy(submission, rng, dtype):
    s, t, y = _inputs(rng, 9, 6, dtype)
    assert_close(submission.distillation_loss(s, t, y, 4.0, 0.0), F.cross_entropy(s, y), name="loss with alpha=0",
                 context="(only the hard term remains, computed at temperature 1)")


@points(5)
def test_soft_term_is_zero_when_the_student_equals_the_teacher(submission, rng):
    s, _, y = _inputs(rng, 5, 9, torch.float64)
    loss = submission.distillation_loss(s, s.clone(), y, 4.0, 1.0)
    assert_close(loss, torch.tensor(0.0, dtype=torch.float64), name="loss with alpha=1 and student == teacher",
                 atol=1e-12, rtol=0, context="(KL(p || p) = 0; a soft cross-entropy would give the teacher's entropy)")


@points(5)
def test_shifting_the_logits_does_not_change_the_loss(submission, rng):
    s, t, y = _inputs(rng, 7, 5, torch.float64)
    expected = _by_hand(s, t, y, 4.0, 0.7)
    loss = submission.distillation_loss(s + 10000.0, t - 5000.0, y, 4.0, 0.7)
    assert_close(loss, expected, name="loss of shifted logits",
                 context="(softmax ignores a constant shift; float64 logits near 1e4 need float64 arithmetic: "
                         "float32 resolves them only to 1e-3)")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_saturated_logits_give_a_finite_loss(submission, rng, dtype):
    # Student and teacher logits span +-150 at T = 2: some probabilities underflow to 0. Use log_softmax;
    # classes where the teacher's probability is 0 contribute 0 (0 * log 0 = 0, as F.kl_div).
    s, t, y = _inputs(rng, 4, 6, dtype, student_scale=1.0, teacher_scale=1.0)
    s, t = s * 100.0, t * 100.0
    s[:, 0], t[:, 1] = 150.0, 150.0
    s[:, 2], t[:, 3] = -150.0, -150.0
    loss = submission.distillation_loss(s, t, y, 2.0, 0.7)
    assert_close(loss, _by_hand(s.double(), t.double(), y, 2.0, 0.7).to(dtype), name="loss of saturated logits",
                 loose=4.0,
                 context="(logits up to +-150 at T=2: compute log-probabilities with log_softmax, not log(softmax))")


@points(15)
@pytest.mark.parametrize("T,alpha,arg", [(4.0, -0.1, "alpha"), (4.0, 1.01, "alpha"), (0.0, 0.7, "T"), (-2.0, 0.7, "T")])
def test_rejects_bad_alpha_and_T(submission, rng, T, alpha, arg):
    s, t, y = _inputs(rng, 3, 4, torch.float32)
    with expect_value_error(arg):
        submission.distillation_loss(s, t, y, T, alpha)
