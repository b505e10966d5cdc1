"""Hidden suite for question 64 (speculative decoding). Runs in the trusted process; see quizgen.grading.suite.

Three kinds of checks: hand-built cases (lesson 2 of the fact base: every distribution distinct, an
accepted draft with p/q < 1, a position after a rejection that would accept, p[g] != q[g-1]); seeded
random cases against the reference; and losslessness, an exact property that needs no reference: for
every position i and every draft token x, the submission is probed just below and just above the
acceptance threshold min(1, p/q) and its residual is read back, and the exact law of the token it
emits at position i, sum_x q(x) * [min(1, p(x)/q(x)) * 1{x} + (1 - min(1, p(x)/q(x))) * r], must be p[i].
Random uniforms are kept away from the ratios (no ties) except in the dedicated tie case, whose answer
the contract fixes (u == p/q accepts). Inputs also arrive non-contiguous (p and q column-major, draft and u
strided), and float64 targets and drafts that agree to 1e-6 make the residual a difference of nearly equal
numbers: exact in float64, but off by tens of percent once p and q are rounded to float32.
"""


import pytest
import torch

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    assert_close,
    assert_number,
    describe,
    expect_tuple,
    explained,
    non_contiguous,
    points,
    randn,
)

# The hand-built case: V = 3, g = 3. Ratios p/q at the drafted tokens [0, 1, 2] are 0.5, 0.25 and 2.0
# (exact in binary: each p and q pair shares its mantissa). All seven rows are distinct; p[3] != q[2].
HAND_P = [[0.2, 0.5, 0.3], [0.45, 0.15, 0.4], [0.1, 0.5, 0.4], [0.3, 0.3, 0.4]]
HAND_Q = [[0.4, 0.35, 0.25], [0.2, 0.6, 0.2], [0.5, 0.3, 0.2]]
HAND_CASES = {
    # name: (draft, u, expected n, expected distribution, what it teaches)
    "reject_in_the_middle": (
        [0, 1, 2], [0.3, 0.9, 0.1], 1, [5 / 9, 0.0, 4 / 9],
        ("draft 0 is accepted although p < q there (u = 0.3 <= p/q = 0.5: accept with probability min(1, p/q), "
        "not iff p >= q); draft 1 is rejected (0.9 > 0.25) and the step stops: draft 2 would be accepted "
        "(0.1 <= 2.0) but comes after the rejection, so n counts the accepted PREFIX only; the next token comes "
        "from norm(max(0, p[1] - q[1])) = [0.25, 0, 0.2] / 0.45 = [5/9, 0, 4/9]")),
    "all_accepted_bonus_from_p": (
        [0, 1, 2], [0.3, 0.2, 0.1], 3, HAND_P[3],
        ("all three drafts are accepted (u <= p/q everywhere), so the bonus token is drawn from the target's "
        "extra row p[g] = p[3], never from the draft's q")),
    "reject_first": (
        [0, 1, 2], [0.7, 0.1, 0.1], 0, [0.0, 0.75, 0.25],
        ("draft 0 is rejected (0.7 > p/q = 0.5), so n = 0 whatever the later u say, and the next token comes "
        "from norm(max(0, p[0] - q[0])) = [0, 0.15, 0.05] / 0.2 = [0, 0.75, 0.25]")),
    "reject_last": (
        [0, 1, 0], [0.3, 0.2, 0.6], 2, [0.0, 0.5, 0.5],
        ("drafts 0 and 1 are accepted, draft 2 (token 0, p/q = 0.1/0.5 = 0.2) is rejected by u = 0.6; the next "
        "token comes from the residual of position 2: norm(max(0, p[2] - q[2])) = [0, 0.2, 0.2] / 0.4")),
}


def _hand(dtype):
    return torch.tensor(HAND_P, dtype=dtype), torch.tensor(HAND_Q, dtype=dtype)


def _distributions(rng, rows, V, dtype, scale=1.5):
    return torch.softmax(randn(rng, rows, V, scale=scale), dim=-1).to(dtype)


def _inputs(**named):
    return f"({describe(**named)})"


def _check_verify(result, n_expected, dist_expected, context, inputs=""):
    n, dist = expect_tuple(result, 2, "speculative_verify", "(n, distribution)")
    with explained(context):
        assert_number(n, n_expected, integer=True, name="n (the number of accepted drafts)", context=inputs)
        assert_close(dist, dist_expected, name="next-token distribution", context=inputs)


# -- residual_distribution --------------------------------------------------------------------------------

@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("V", [2, 7, 32, 100])
def test_residual_distribution_matches_reference(submission, reference, rng, V, dtype):
    p, q = _distributions(rng, 2, V, dtype)
    r = submission.residual_distribution(p, q)
    with explained("the residual is max(0, p - q) divided by its sum"):
        assert_close(r, reference.residual_distribution(p, q), name="residual distribution", context=_inputs(p=p, q=q))
    assert_close(r.sum(), torch.ones((), dtype=dtype), name="sum of the residual distribution")
    outside = r[p <= q]
    assert_close(outside, torch.zeros_like(outside), name="residual where p <= q",
                 context="(the residual only puts mass where the target p exceeds the draft q)")


@points(6)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_residual_distribution_hand_built(submission, dtype):
    p = torch.tensor([0.45, 0.15, 0.4], dtype=dtype)
    q = torch.tensor([0.2, 0.6, 0.2], dtype=dtype)
    r = submission.residual_distribution(p, q)
    assert_close(r, torch.tensor([5 / 9, 0.0, 4 / 9], dtype=dtype), name="residual distribution",
                 context="(p = [0.45, 0.15, 0.4], q = [0.2, 0.6, 0.2]: max(0, p - q) = [0.25, 0, 0.2], divided by "
                         "its sum 0.45; not max(0, q - p), and normalized)")


@points(6)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("V", [1, 6])
def test_residual_distribution_with_zero_mass_returns_p(submission, rng, V, dtype):
    p = _distributions(rng, 1, V, dtype)[0]
    r = submission.residual_distribution(p, p.clone())
    assert_close(r, p, name="residual distribution when p == q",
                 context="(max(0, p - q) has exactly zero mass: the contract returns p itself, not 0/0 = NaN)")


# -- speculative_verify -----------------------------------------------------------------------------------

@points(20)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case", list(HAND_CASES))
def test_speculative_verify_hand_built(submission, case, dtype):
    draft, u, n, dist, teaches = HAND_CASES[case]
    p, q = _hand(dtype)
    result = submission.speculative_verify(p, q, torch.tensor(draft), torch.tensor(u, dtype=dtype))
    context = f"case: p = {HAND_P}, q = {HAND_Q}, draft = {draft}, u = {u}\n  {teaches}"
    _check_verify(result, n, torch.tensor(dist, dtype=dtype), context)


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_speculative_verify_accepts_when_u_equals_the_ratio(submission, dtype):
    p, q = _hand(dtype)
    result = submission.speculative_verify(p, q, torch.tensor([0, 1, 2]), torch.tensor([0.3, 0.25, 0.1], dtype=dtype))
    _check_verify(result, 3, p[3], f"case: p = {HAND_P}, q = {HAND_Q}, draft = [0, 1, 2], u = [0.3, 0.25, 0.1]\n  "
                                   "u[1] = 0.25 equals p/q = 0.15 / 0.6 = 0.25 at draft 1 (exact in binary): the contract "
                                   "accepts iff u <= p/q, so u == p/q accepts; draft 0 (u = 0.3 <= 0.5) and draft 2 "
                                   "(0.1 <= 2.0) are accepted too, so all 3 are and the bonus comes from p[3]")


def _random_step(rng, g, V, dtype):
    p = _distributions(rng, g + 1, V, dtype)
    q = _distributions(rng, g, V, dtype)
    u_draft = torch.rand(g, 1, generator=rng, dtype=torch.float64)
    draft = torch.searchsorted(q.double().cumsum(-1), u_draft).flatten().clamp(max=V - 1)  # draft_i ~ q_i
    ratio = (p[torch.arange(g), draft] / q[torch.arange(g), draft]).double()
    u = torch.rand(g, generator=rng, dtype=torch.float64)
    near = (u - ratio).abs() < 1e-3
    u = torch.where(near, torch.where(ratio > 0.5, ratio - 0.25, ratio + 0.25), u)  # no ties
    return p, q, draft, u.to(dtype)


@points(14)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("g,V", [(1, 5), (3, 17), (6, 50), (4, 2)])
def test_speculative_verify_matches_reference(submission, reference, rng, g, V, dtype):
    for trial in range(4):
        p, q, draft, u = _random_step(rng, g, V, dtype)
        result = submission.speculative_verify(p, q, draft, u)
        n, dist = reference.speculative_verify(p, q, draft, u)
        ratio = p[torch.arange(g), draft] / q[torch.arange(g), draft]
        context = (f"random case {trial}: ratios p/q at the drafts = {[round(float(x), 6) for x in ratio]}, "
                   f"u = {[round(float(x), 6) for x in u]}; accept while u <= p/q, then the residual of the first "
                   "rejected position (or p[g] if none is rejected)")
        _check_verify(result, n, dist, context, _inputs(p=p, q=q, draft=draft, u=u))


@points(18)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("g,V", [(3, 4), (2, 6)])
def test_speculative_verify_is_lossless(submission, rng, g, V, dtype):
    """The exact law of the token emitted at every position, from the submission's own answers, is p."""
    p = _distributions(rng, g + 1, V, dtype, scale=1.0)
    q = _distributions(rng, g, V, dtype, scale=1.0)
    for i in range(g):
        law = torch.zeros(V, dtype=torch.float64)
        for x in range(V):
            draft = torch.full((g,), x, dtype=torch.int64)
            accept = min(1.0, float(p[i, x].double() / q[i, x].double()))
            where = f"position {i}, draft token {x} (p = {float(p[i, x]):.4f}, q = {float(q[i, x]):.4f})"
            u = torch.zeros(g, dtype=dtype)  # u = 0 accepts every other position (0 <= p/q)
            u[i] = accept * (1 - 1e-3)
            n, _ = expect_tuple(submission.speculative_verify(p, q, draft, u), 2, "speculative_verify", "(n, distribution)")
            if not isinstance(n, int) or n <= i:
                raise AssertionError(f"{where}: u = {float(u[i]):.6f} is below min(1, p/q) = {accept:.6f}, so the draft "
                                     f"must be accepted (probability min(1, p/q)), but n = {n}")
            law[x] += float(q[i, x]) * accept
            if accept < 1.0:
                u[i] = min(accept * (1 + 1e-3), (accept + 1) / 2)
                n, residual = expect_tuple(submission.speculative_verify(p, q, draft, u), 2, "speculative_verify",
                                           "(n, distribution)")
                if n != i:
                    raise AssertionError(f"{where}: u = {float(u[i]):.6f} is above p/q = {accept:.6f}, so the draft "
                                         f"must be rejected and the step stop there (n = {i}), but n = {n}")
                if not isinstance(residual, torch.Tensor) or residual.shape != (V,):
                    raise AssertionError(f"{where}: the distribution after a rejection must be a tensor [V = {V}]")
                law += float(q[i, x]) * (1 - accept) * residual.double()
        assert_close(law.to(dtype), p[i], name=f"law of the token emitted at position {i}",
                     context=("(sum over draft tokens x ~ q of min(1, p/q) * [emit x] + (1 - min(1, p/q)) * your "
                              "next-token distribution must be exactly the target p: modified rejection sampling is "
                              "lossless only with the residual norm(max(0, p - q)) of the rejected position)"))
    n, bonus = expect_tuple(submission.speculative_verify(p, q, torch.zeros(g, dtype=torch.int64), torch.zeros(g, dtype=dtype)),
                            2, "speculative_verify", "(n, distribution)")
    assert_number(n, g, integer=True, name="n when every u is 0 (all drafts accepted)")
    assert_close(bonus, p[g], name="bonus-token distribution", context="(all accepted: the target's extra row p[g])")


# -- expected_tokens_per_step -----------------------------------------------------------------------------

@points(7)
@pytest.mark.parametrize("alpha,g", [(0.0, 4), (0.5, 1), (0.8, 4), (0.6, 7), (0.9, 3), (0.25, 2), (0.7, 0)])
def test_expected_tokens_per_step_is_the_geometric_sum(submission, alpha, g):
    expected = sum(alpha**i for i in range(g + 1))
    got = submission.expected_tokens_per_step(alpha, g)
    with explained("expected tokens per target call = 1 + alpha + ... + alpha^g = (1 - alpha^(g+1)) / (1 - alpha): "
                    "the accepted prefix plus the one token every step emits (residual or bonus)"):
        assert_number(got, expected, rel=1e-9, abs_tol=1e-12, name=f"expected_tokens_per_step({alpha}, {g})")


@points(4)
@pytest.mark.parametrize("g", [0, 1, 5])
def test_expected_tokens_per_step_with_alpha_one_is_g_plus_one(submission, g):
    got = submission.expected_tokens_per_step(1.0, g)
    with explained("alpha = 1 accepts every draft: g + 1 tokens per step (the closed form is 0/0 there and needs "
                    "its own case)"):
        assert_number(got, g + 1, rel=1e-12, name=f"expected_tokens_per_step(1.0, {g})")


# -- every function: non-contiguous inputs, float64 precision ---------------------------------------------

@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("function", ["residual_distribution", "speculative_verify"])
def test_non_contiguous_inputs(submission, reference, rng, function, dtype):
    g, V = 4, 9
    p, q, draft, u = _random_step(rng, g, V, dtype)
    np_, nq, ndraft, nu = non_contiguous(p), non_contiguous(q), non_contiguous(draft), non_contiguous(u)
    with explained("p and q arrive column-major, draft and u strided (the same values in another layout): the same "
                   "answers; .view raises on such tensors, .reshape and indexing do not"):
        if function == "residual_distribution":
            assert_close(submission.residual_distribution(np_[1], nq[1]), reference.residual_distribution(p[1], q[1]),
                         name="residual distribution", context=_inputs(p=np_[1], q=nq[1]))
        else:
            n, dist = reference.speculative_verify(p, q, draft, u)
            _check_verify(submission.speculative_verify(np_, nq, ndraft, nu), n, dist,
                          "accept while u <= p/q, then the residual of the first rejected position (or p[g])",
                          _inputs(p=np_, q=nq, draft=ndraft, u=nu))


def _nearly_equal_pair(rng, V):
    """float64 p and q that agree to ~1e-6: p - q is exact in float64 (Sterbenz), lost in float32."""
    p = torch.softmax(randn(rng, V, scale=1.0), dim=-1)
    q = p * (1 + 1e-6 * randn(rng, V))
    return p, q / q.sum()


@points(5)
@pytest.mark.parametrize("function", ["residual_distribution", "speculative_verify"])
def test_float64_draft_that_nearly_matches_the_target(submission, reference, rng, function):
    V, g = 12, 2
    with explained("q agrees with p to about 1e-6, so max(0, p - q) is a difference of nearly equal numbers: exact in "
                   "float64, but rounding p and q to float32 (relative error 6e-8) changes it by tens of percent; "
                   "compute in the input's dtype"):
        if function == "residual_distribution":
            p, q = _nearly_equal_pair(rng, V)
            assert_close(submission.residual_distribution(p, q), reference.residual_distribution(p, q),
                         name="residual distribution", context=_inputs(p=p, q=q))
        else:
            rows = [_nearly_equal_pair(rng, V) for _ in range(g)]
            p = torch.stack([r[0] for r in rows] + [torch.softmax(randn(rng, V), dim=-1)])
            q = torch.stack([r[1] for r in rows])
            draft = torch.tensor([int(torch.argmax(q[0] - p[0])), int(torch.argmax(q[1] - p[1]))])  # p/q < 1 there
            ratio = p[torch.arange(g), draft] / q[torch.arange(g), draft]
            u = torch.tensor([0.5 * float(ratio[0]), (float(ratio[1]) + 1) / 2], dtype=torch.float64)
            _check_verify(submission.speculative_verify(p, q, draft, u), 1, reference.residual_distribution(p[1], q[1]),
                          f"draft 0 is accepted (u = {float(u[0])!r} <= p/q = {float(ratio[0])!r}), draft 1 rejected "
                          f"(u = {float(u[1])!r} > p/q = {float(ratio[1])!r}): n = 1 and the residual of position 1",
                          _inputs(p=p, q=q, draft=draft, u=u))
