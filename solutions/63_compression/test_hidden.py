"""Hidden suite for question 63 (compression). Runs in the trusted process; see quizgen.grading.suite.

Low-rank factors are unique only up to sign and rotation, so nothing here looks at A or B alone: tests
check the shapes [m, k] and [k, n] (which bound the rank of A @ B by k), the Eckart-Young-Mirsky errors ||W - A @ B||_F = sqrt(sum of the discarded sigma^2)
and ||W - A @ B||_2 = sigma_{k+1} (computed from torch.linalg.svdvals, the exact SVD, never the
randomized torch.svd_lowrank), and A @ B itself, which is unique when the singular values are distinct.
W also arrives non-contiguous (a transposed layout). rank_for_energy is also probed 1e-10 on either side of a
cumulative fraction of a float64 W: the answer is fixed there in float64, and a float32 SVD (relative error
~1e-7) lands on the same side for both probes, so it gets one of them wrong.
Random matrices are built as U diag(s) V^T with chosen, well-separated singular values, so that no two
correct implementations can disagree (no ties, no near-degenerate subspaces, no energy on a boundary).
"""

import math

import pytest
import torch

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    GraderError,
    assert_close,
    assert_number,
    describe,
    expect_tuple,
    expect_value_error,
    explained,
    non_contiguous,
    points,
    randn,
)

# (m, n): square (a V vs V^T mix-up keeps its shapes), tall, wide, a single row or column.
SHAPES = [(6, 6), (9, 5), (5, 11), (13, 13), (1, 4), (7, 1), (20, 14)]

# The hand-built case: W = U diag(5, 3, 2, 1) V^T with U, V signed, permuted Hadamard matrices, neither
# symmetric; every entry of W is exact in binary floating point.
HAND_U = torch.tensor([[0.5, -0.5, -0.5, -0.5], [0.5, -0.5, 0.5, 0.5], [0.5, 0.5, -0.5, 0.5], [0.5, 0.5, 0.5, -0.5]],
                      dtype=torch.float64)
HAND_V = torch.tensor([[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, -0.5, -0.5], [-0.5, 0.5, -0.5, 0.5], [-0.5, 0.5, 0.5, -0.5]],
                      dtype=torch.float64)
HAND_S = torch.tensor([5.0, 3.0, 2.0, 1.0], dtype=torch.float64)
HAND_W = (HAND_U * HAND_S) @ HAND_V.T


def _orthonormal(rng, rows, cols):
    q, r = torch.linalg.qr(randn(rng, rows, cols))
    return q * torch.sign(torch.diagonal(r))  # a Haar-like orthonormal basis, columns [rows, cols]


def _spectrum(rng, r):
    """r distinct singular values, descending, at least 0.5 apart and at least 1.0."""
    steps = 0.5 + torch.rand(r, generator=rng, dtype=torch.float64)
    return torch.flip(torch.cumsum(steps, 0), [0]) + 0.5


def _matrix(rng, m, n, dtype):
    r = min(m, n)
    s = _spectrum(rng, r)
    W = (_orthonormal(rng, m, r) * s) @ _orthonormal(rng, n, r).T
    return W.to(dtype)


def _ks(r):
    return sorted({0, 1, r // 2, r})


def _product_tolerance(W):
    """Tolerances on A @ B. float64: the dtype's defaults. float32: 1e-4 of sigma_1, so that a correct float32
    route that loses more than torch.linalg.svd (eigh of W^T W, say) still passes; every listed mistake is
    off by a whole singular value."""
    if W.dtype == torch.float64:
        return {}
    sigma_1 = float(torch.linalg.matrix_norm(W.double(), ord=2))
    return {"rtol": 1e-4, "atol": 1e-4 * sigma_1}


def _norm_tolerance(W):
    """Absolute tolerance on a norm of W - A @ B: a few hundred ulps of ||W||."""
    eps = torch.finfo(W.dtype).eps
    return 200 * eps * float(torch.linalg.matrix_norm(W.double()))


def _factors(result, W, k):
    A, B = expect_tuple(result, 2, "low_rank_factorize", "(A, B)")
    _check_shapes(A, B, W, k)
    return A, B


def _inputs(**named):
    return f"({describe(**named)})"


def _reference_agrees(reference, W, energy, expected):
    if reference.rank_for_energy(W, energy) != expected:
        raise GraderError(f"the reference disagrees with the expected rank for energy={energy!r}")


def _check_shapes(A, B, W, k):
    m, n = W.shape
    for name, got, want in (("A", A, (m, k)), ("B", B, (k, n))):
        if not isinstance(got, torch.Tensor):
            raise AssertionError(f"low_rank_factorize must return two tensors (A, B); {name} is a {type(got).__name__}")
        if tuple(got.shape) != want:
            raise AssertionError(f"{name}: shape {list(got.shape)}, expected {list(want)} for W [{m}, {n}] and k={k} "
                                 "(A is [m, k], B is [k, n])")
        if got.dtype != W.dtype:
            raise AssertionError(f"{name}: dtype {got.dtype}, expected {W.dtype} (the factors keep W's dtype)")


MISTAKES = ("A @ B must be U_k diag(S_k) V_k^T: the k LARGEST singular values (torch.linalg.svd sorts them in "
            "descending order), S applied exactly once (in A or in B, or sqrt(S) in each), and the first k ROWS "
            "of the Vh that torch.linalg.svd returns (it is already V^T)")


def _check_eckart_young(A, B, W, k):
    sigma = torch.linalg.svdvals(W.double())
    tol = _norm_tolerance(W)
    residual = W.double() - A.double() @ B.double()
    frobenius = float(torch.linalg.matrix_norm(residual))
    expected = float(torch.sqrt((sigma[k:] ** 2).sum()))
    sigmas = ", ".join(f"{float(x):.6g}" for x in sigma)
    if abs(frobenius - expected) > tol:
        raise AssertionError(
            f"||W - A @ B||_F = {frobenius:.17g} {_inputs(W=W, k=k)}, but the best rank-{k} approximation has error "
            f"sqrt(sum of the discarded sigma^2) = {expected:.17g} (allowed {tol:.2g}; sigma = {sigmas}). " + MISTAKES)
    spectral = float(torch.linalg.matrix_norm(residual, ord=2))
    expected_2 = float(sigma[k]) if k < len(sigma) else 0.0
    if abs(spectral - expected_2) > tol:
        raise AssertionError(f"||W - A @ B||_2 = {spectral:.17g} {_inputs(W=W, k=k)}, expected sigma_(k+1) = "
                             f"{expected_2:.17g} (allowed {tol:.2g})")


@points(17)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n", SHAPES)
def test_low_rank_factorize_error_is_eckart_young_tail(submission, rng, m, n, dtype):
    W = _matrix(rng, m, n, dtype)
    for k in _ks(min(m, n)):
        A, B = _factors(submission.low_rank_factorize(W, k), W, k)
        _check_eckart_young(A, B, W, k)


@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n", [(6, 6), (9, 5), (5, 11), (20, 14)])
def test_low_rank_factorize_matches_reference_approximation(submission, reference, rng, m, n, dtype):
    W = _matrix(rng, m, n, dtype)
    r = min(m, n)
    for k in sorted({1, r // 2, r - 1}):
        A, B = _factors(submission.low_rank_factorize(W, k), W, k)
        want_A, want_B = reference.low_rank_factorize(W, k)
        # A @ B is unique (distinct singular values); the factors are not, so only the product is compared.
        with explained(f"A @ B must be the best rank-{k} approximation U_k diag(S_k) V_k^T"):
            assert_close(A @ B, want_A @ want_B, name=f"A @ B (k={k})", **_product_tolerance(W), context=_inputs(W=W, k=k))


@points(10)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_low_rank_factorize_hand_built_square(submission, k):
    A, B = _factors(submission.low_rank_factorize(HAND_W, k), HAND_W, k)
    frobenius = float(torch.linalg.matrix_norm(HAND_W - A @ B))
    expected = math.sqrt(float((HAND_S[k:] ** 2).sum()))
    hints = []
    if abs(frobenius - math.sqrt(float((HAND_S[: 4 - k] ** 2).sum()))) < 1e-6:
        hints.append("that is the error of keeping the k SMALLEST singular values")
    if abs(frobenius - expected) > 1e-9:
        raise AssertionError(
            f"W = U diag(5, 3, 2, 1) V^T (4 x 4), k={k}: ||W - A @ B||_F = {frobenius:.10g}, expected "
            f"sqrt({' + '.join(f'{float(s):g}^2' for s in HAND_S[k:])}) = {expected:.10g}"
            f"{' (' + '; '.join(hints) + ')' if hints else ''}. " + MISTAKES)
    best = (HAND_U[:, :k] * HAND_S[:k]) @ HAND_V[:, :k].T
    assert_close(A @ B, best, name=f"A @ B (k={k})", context="on the hand-built W = U diag(5, 3, 2, 1) V^T")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n", [(5, 3), (4, 4), (1, 6)])
def test_low_rank_factorize_k_zero_gives_empty_factors(submission, rng, m, n, dtype):
    W = _matrix(rng, m, n, dtype)
    with explained("k = 0 gives empty factors A [m, 0] and B [0, n] in W's dtype"):
        _factors(submission.low_rank_factorize(W, 0), W, 0)


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n", [(8, 5), (3, 10), (7, 7)])
def test_low_rank_factorize_full_rank_reproduces_W(submission, rng, m, n, dtype):
    W = _matrix(rng, m, n, dtype)
    k = min(m, n)
    A, B = _factors(submission.low_rank_factorize(W, k), W, k)
    with explained("k = min(m, n) is allowed, and a full-rank factorization reproduces W"):
        assert_close(A @ B, W, name=f"A @ B with k = min(m, n) = {k}", **_product_tolerance(W), context=_inputs(W=W, k=k))


@points(5)
@pytest.mark.parametrize("m,n,k", [(5, 7, -1), (5, 7, 6), (6, 4, 5), (3, 3, 4)])
def test_low_rank_factorize_rejects_k_outside_0_to_min_m_n(submission, rng, m, n, k):
    W = _matrix(rng, m, n, torch.float64)
    with expect_value_error("k", "W"):  # the condition involves k and W's shape: naming either is enough
        submission.low_rank_factorize(W, k)


def _brute_force_saving_rank(m, n):
    k = 0
    while (k + 1) * (m + n) < m * n:
        k += 1
    return k


@points(7)
@pytest.mark.parametrize("m,n,expected", [
    (4096, 4096, 2047),      # break-even at k = 2048 exactly: 2048 * 8192 == 4096 * 4096 saves nothing
    (3, 6, 1),               # break-even at k = 2: 2 * 9 == 18
    (4096, 11008, 2985),
    (1, 1, 0),
    (2, 2, 0),               # 1 * 4 == 4: no saving
    (1, 1000, 0),
    (5, 7, 2),
    (10**6, 10**12 - 10**6 + 1, 999999),  # m*n = 1 (mod m+n): a float division rounds onto the break-even
])
def test_max_rank_that_saves_known_values(submission, m, n, expected):
    got = submission.max_rank_that_saves(m, n)
    with explained(f"the largest k with k * (m + n) < m * n, strictly: k = {expected} stores {expected * (m + n)} "
                    f"numbers instead of {m * n}, k = {expected + 1} stores {(expected + 1) * (m + n)}, which saves "
                    "nothing (exact integer arithmetic: a float division can round onto the break-even)"):
        assert_number(got, expected, integer=True, name=f"max_rank_that_saves({m}, {n})")


@points(6)
def test_max_rank_that_saves_matches_brute_force(submission, rng):
    sizes = torch.randint(1, 200, (24, 2), generator=rng).tolist()
    sizes += [[a, a] for a in (2, 6, 64, 100)] + [[a, 2 * a] for a in (3, 15)]  # exact break-evens
    for m, n in sizes:
        expected = _brute_force_saving_rank(m, n)
        got = submission.max_rank_that_saves(m, n)
        with explained(f"the largest k with k * (m + n) < m * n: k = {expected} stores {expected * (m + n)} < "
                        f"{m * n} numbers, k = {expected + 1} stores {(expected + 1) * (m + n)}"):
            assert_number(got, expected, integer=True, name=f"max_rank_that_saves({m}, {n})")


def _energy_cases(rng, s):
    """(energy, expected k): a tiny energy, and energies halfway between consecutive cumulative fractions
    (for the first and last singular value and two others drawn at random)."""
    cumulative = torch.cumsum(s * s, 0)
    fraction = cumulative / cumulative[-1]
    cases = [(1e-9, 1)]
    chosen = {0, len(s) - 1} | set(torch.randint(0, len(s), (2,), generator=rng).tolist())
    for j in sorted(chosen):
        lower = float(fraction[j - 1]) if j > 0 else 0.0
        cases.append(((lower + float(fraction[j])) / 2, j + 1))
    return cases


@points(12)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n", [(6, 6), (9, 5), (5, 11), (20, 14), (1, 4)])
def test_rank_for_energy_on_known_spectrum(submission, reference, rng, m, n, dtype):
    W = _matrix(rng, m, n, dtype)
    s = torch.linalg.svdvals(W.double())
    for energy, expected in _energy_cases(rng, s):
        got = submission.rank_for_energy(W, energy)
        with explained(f"W has sigma = {[round(float(x), 4) for x in s]}: the answer is the smallest k with "
                       "sigma_1^2 + ... + sigma_k^2 >= energy * sum(sigma^2)"):
            assert_number(got, expected, integer=True, name=f"rank_for_energy(W, energy={energy!r})",
                          context=_inputs(W=W))
        _reference_agrees(reference, W, energy, expected)


@points(4)
@pytest.mark.parametrize("energy,expected", [(0.5, 1), (0.6, 1), (0.8, 2), (0.9, 3), (0.95, 3), (0.99, 4)])
def test_rank_for_energy_hand_built(submission, energy, expected):
    # sigma^2 = 25, 9, 4, 1 of 39: cumulative fractions 0.641, 0.872, 0.974, 1.
    # Counting sigma instead (5, 3, 2, 1 of 11: 0.455, 0.727, 0.909, 1) gives other answers.
    got = submission.rank_for_energy(HAND_W, energy)
    with explained("W has sigma = 5, 3, 2, 1; energy is sigma^2, so the cumulative fractions are 25/39 = 0.641, "
                    "34/39 = 0.872, 38/39 = 0.974, 1 (with sigma instead of sigma^2 they would be 5/11 = 0.455, "
                    "8/11 = 0.727, 10/11 = 0.909, 1); k is 1-based"):
        assert_number(got, expected, integer=True, name=f"rank_for_energy(W, energy={energy})")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n", [(6, 6), (4, 9), (12, 5)])
def test_rank_for_energy_full_energy_is_full_rank(submission, rng, m, n, dtype):
    W = _matrix(rng, m, n, dtype)
    got = submission.rank_for_energy(W, 1.0)
    with explained(f"W [{m}, {n}] ({dtype}) has full rank, so energy = 1.0 needs every singular value. Beware of "
                    "rounding: a fraction computed as cumsum / sum may end at 0.9999999 < 1; divide by the cumulative "
                    "sum's own last element, or clamp the answer to min(m, n)"):
        assert_number(got, min(m, n), integer=True, name="rank_for_energy(W, energy=1.0)", context=_inputs(W=W))


@points(4)
@pytest.mark.parametrize("energy", [0.0, -0.25, 1.5, 1.0000001])
def test_rank_for_energy_rejects_energy_outside_0_1(submission, energy):
    with expect_value_error("energy"):
        submission.rank_for_energy(HAND_W, energy)


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("function", ["low_rank_factorize", "rank_for_energy"])
def test_non_contiguous_W(submission, reference, rng, function, dtype):
    W = non_contiguous(_matrix(rng, 9, 6, dtype))
    with explained("W arrives in a transposed layout (W.T.contiguous().T): the same matrix, so the same answers"):
        if function == "low_rank_factorize":
            for k in (2, 6):
                A, B = _factors(submission.low_rank_factorize(W, k), W, k)
                _check_eckart_young(A, B, W, k)
                want_A, want_B = reference.low_rank_factorize(W, k)
                assert_close(A @ B, want_A @ want_B, name=f"A @ B (k={k})", **_product_tolerance(W),
                             context=_inputs(W=W, k=k))
        else:
            s = torch.linalg.svdvals(W.double())
            for energy, expected in _energy_cases(rng, s):
                assert_number(submission.rank_for_energy(W, energy), expected, integer=True,
                              name=f"rank_for_energy(W, energy={energy!r})", context=_inputs(W=W))


@points(5)
@pytest.mark.parametrize("m,n", [(9, 5), (6, 6), (5, 11)])
def test_rank_for_energy_is_float64_accurate(submission, reference, rng, m, n):
    W = _matrix(rng, m, n, torch.float64)
    s = torch.linalg.svdvals(W)
    cumulative = torch.cumsum(s * s, 0)
    fraction = cumulative / cumulative[-1]
    for j in range(len(s) - 1):
        for side, expected in ((-1, j + 1), (1, j + 2)):
            energy = float(fraction[j]) * (1 + side * 1e-10)
            got = submission.rank_for_energy(W, energy)
            with explained(f"the top-{j + 1} singular values hold a fraction {float(fraction[j])!r} of the energy, so "
                           f"energy = {energy!r} ({'just below' if side < 0 else 'just above'} it) needs k = {expected}; "
                           "a float64 W needs float64 singular values (float32 is off by ~1e-7 here)"):
                assert_number(got, expected, integer=True, name=f"rank_for_energy(W, energy={energy!r})",
                              context=_inputs(W=W))
            _reference_agrees(reference, W, energy, expected)
