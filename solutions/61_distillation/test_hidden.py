"""Hidden suite for question 61 (distillation). Runs in the trusted process; see quizgen.grading.suite.

Most cases use T = 4 and alpha = 0.7 (facts.md: T = 1 hides the T**2 and temperature mistakes, alpha = 0.5
hides alpha swaps). Besides the reference, the loss is checked against a hand-written
sum p (log p - log q), the exact soft-target gradient T * (q - p) / N, plain F.cross_entropy at alpha = 0,
the soft term alone at alpha = 1, and shift invariance in float64 (float64 cases against the reference shift
each row of logits by ~1e5, which changes nothing for a float64 computation but costs a float32 one about
1e-4 of the loss). Gradients come from the worker (harness
"grad"). Logits also arrive non-contiguous (column-major) and labels strided. float64 cases use float64
tolerances (rtol 4e-9): a loss computed in float32 and cast back is off by about 1e-7 and fails.
"""

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    assert_close,
    describe,
    expect_value_error,
    explained,
    non_contiguous,
    points,
    randn,
)

LOOSE = 4.0  # a correct loss may sum the classes and the rows in another order

# (N, C, T, alpha): one row, two classes, T < 1, alpha near the ends.
CASES = [(8, 10, 4.0, 0.7), (1, 3, 4.0, 0.7), (5, 7, 2.5, 0.3), (16, 32, 4.0, 0.7), (6, 2, 0.5, 0.9), (4, 5, 8.0, 0.1)]

FORMULA = ("the loss is alpha * T^2 * KL(p_teacher || p_student) at temperature T, summed over classes and "
           "averaged over the N rows ('batchmean'), + (1 - alpha) * the mean cross-entropy of the raw student "
           "logits (temperature 1)")


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


def _inputs_text(s, t, y, T, alpha):
    return f"({describe(student_logits=s, teacher_logits=t, labels=y, T=T, alpha=alpha)})"


@points(25)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("N,C,T,alpha", CASES)
def test_distillation_loss_matches_reference(submission, reference, rng, N, C, T, alpha, dtype):
    s, t, y = _inputs(rng, N, C, dtype)
    if dtype == torch.float64:  # rows shifted by ~1e5: the same loss, but float32 resolves such logits only to ~1e-2
        s = s + randn(rng, N, 1, scale=1e5)
        t = t + randn(rng, N, 1, scale=1e5)
    loss = submission.distillation_loss(s, t, y, T, alpha)
    with explained(FORMULA):
        assert_close(loss, reference.distillation_loss(s, t, y, T, alpha), name="distillation loss", loose=LOOSE,
                     context=_inputs_text(s, t, y, T, alpha))


@points(10)
@pytest.mark.parametrize("N,C", [(6, 5), (3, 12)])
def test_distillation_loss_matches_the_kl_written_by_hand(submission, rng, N, C):
    s, t, y = _inputs(rng, N, C, torch.float64)
    loss = submission.distillation_loss(s, t, y, 4.0, 0.7)
    with explained("by hand: 0.7 * 16 * mean_n sum_c p (log p - log q) + 0.3 * mean_n CE, with p the teacher's and q "
                   "the student's softmax at T = 4"):
        assert_close(loss, _by_hand(s, t, y, 4.0, 0.7), name="distillation loss", loose=LOOSE,
                     context=_inputs_text(s, t, y, 4.0, 0.7))


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_alpha_at_the_ends_of_its_range(submission, rng, alpha, dtype):
    s, t, y = _inputs(rng, 9, 6, dtype)
    loss = submission.distillation_loss(s, t, y, 4.0, alpha)
    if alpha == 0.0:
        why = "alpha = 0 is allowed (the range [0, 1] is closed) and leaves only the cross-entropy at temperature 1"
        expected = F.cross_entropy(s, y)
    else:
        why = "alpha = 1 is allowed (the range [0, 1] is closed) and leaves only T^2 * KL(p_teacher || p_student)"
        expected = _by_hand(s, t, y, 4.0, 1.0)
    with explained(why):
        assert_close(loss, expected, name=f"loss with alpha={alpha:g}", loose=LOOSE,
                     context=_inputs_text(s, t, y, 4.0, alpha))


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("N,C,T,alpha", [(6, 9, 4.0, 0.7), (7, 4, 2.0, 0.4)])
def test_non_contiguous_inputs(submission, rng, N, C, T, alpha, dtype):
    s, t, y = _inputs(rng, N, C, dtype)
    ns, nt, ny = non_contiguous(s), non_contiguous(t), non_contiguous(y)
    loss = submission.distillation_loss(ns, nt, ny, T, alpha)
    with explained("the logits arrive column-major (a transposed copy, transposed back) and the labels strided: "
                   "the same values, so the same loss; use .reshape, not .view, if you reshape at all"):
        assert_close(loss, _by_hand(s, t, y, T, alpha), name="distillation loss", loose=LOOSE,
                     context=_inputs_text(ns, nt, ny, T, alpha))


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
        raise AssertionError(f"no gradient reached student_logits ({_inputs_text(s, t, y, T, alpha)})")
    assert_close(got["grads"][0], leaf.grad, name="gradient of student_logits (grad_output 1.5)", loose=LOOSE,
                 context=_inputs_text(s, t, y, T, alpha))


@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_no_gradient_flows_into_the_teacher(submission, rng, dtype):
    s, t, y = _inputs(rng, 5, 7, dtype)
    got = _grads(submission, s, t, y, 4.0, 0.7)
    teacher_grad = got["grads"][1]
    if teacher_grad is not None and bool((teacher_grad != 0).any()):
        largest = float(teacher_grad.abs().max())
        raise AssertionError(f"a gradient reached teacher_logits (largest |grad| {largest:.3g}; "
                             f"{_inputs_text(s, t, y, 4.0, 0.7)}): the teacher is a fixed target, detach it "
                             "(teacher_logits.detach())")


@points(10)
@pytest.mark.parametrize("T", [4.0, 2.0, 10.0])
def test_soft_target_gradient_is_T_times_q_minus_p_over_N(submission, rng, T):
    # Hinton et al. eq. 2 with the T^2 factor: d/ds [T^2 * KL(p || q) / N] = T * (q - p) / N.
    N, C = 6, 8
    s, t, y = _inputs(rng, N, C, torch.float64)
    got = _grads(submission, s, t, y, T, 1.0)
    q, p = torch.softmax(s / T, dim=-1), torch.softmax(t / T, dim=-1)
    if got["grads"][0] is None:
        raise AssertionError(f"no gradient reached student_logits ({_inputs_text(s, t, y, T, 1.0)})")
    with explained(f"at alpha = 1 only the soft term remains; its gradient is T * (softmax(s/T) - softmax(t/T)) / N "
                   f"(Hinton et al.); without the T^2 factor it would be T^2 = {T * T:g} times smaller"):
        assert_close(got["grads"][0], T * (q - p) / N, name="gradient of the soft term (alpha=1)", loose=LOOSE,
                     context=_inputs_text(s, t, y, T, 1.0))


@points(5)
def test_soft_term_is_zero_when_the_student_equals_the_teacher(submission, rng):
    s, _, y = _inputs(rng, 5, 9, torch.float64)
    loss = submission.distillation_loss(s, s.clone(), y, 4.0, 1.0)
    with explained("KL(p || p) = 0; a soft cross-entropy -sum p log q would give the teacher's entropy instead"):
        assert_close(loss, torch.tensor(0.0, dtype=torch.float64), name="loss with alpha=1 and student == teacher",
                     atol=1e-12, rtol=0, context=_inputs_text(s, s, y, 4.0, 1.0))


@points(5)
def test_shifting_the_logits_does_not_change_the_loss(submission, rng):
    s, t, y = _inputs(rng, 7, 5, torch.float64)
    expected = _by_hand(s, t, y, 4.0, 0.7)
    loss = submission.distillation_loss(s + 10000.0, t - 5000.0, y, 4.0, 0.7)
    with explained("softmax ignores a constant shift; float64 logits near 1e4 need float64 arithmetic (float32 "
                   "resolves them only to 1e-3)"):
        assert_close(loss, expected, name="loss of shifted logits", loose=LOOSE,
                     context=_inputs_text(s + 10000.0, t - 5000.0, y, 4.0, 0.7))


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
    with explained("logits up to +-150 at T = 2: compute log-probabilities with log_softmax, not log(softmax), and "
                   "let classes with teacher probability 0 contribute 0 (0 * log 0 = 0)"):
        assert_close(loss, _by_hand(s.double(), t.double(), y, 2.0, 0.7).to(dtype), name="loss of saturated logits",
                     loose=LOOSE, context=_inputs_text(s, t, y, 2.0, 0.7))


@points(10)
@pytest.mark.parametrize("T,alpha,arg", [(4.0, -0.1, "alpha"), (4.0, 1.01, "alpha"), (0.0, 0.7, "T"), (-2.0, 0.7, "T")])
def test_rejects_bad_alpha_and_T(submission, rng, T, alpha, arg):
    s, t, y = _inputs(rng, 3, 4, torch.float32)
    with expect_value_error(arg):
        submission.distillation_loss(s, t, y, T, alpha)
