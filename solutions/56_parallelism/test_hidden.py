"""Hidden suite for question 56 (parallelism). Runs in the trusted process; see quizgen.grading.suite.

Shards are compared exactly (they are copies or views of W). The tensor-parallel MLP is compared
with the dense MLP computed here (the peer of facts.md), with b2 != 0 and world_size > 1 so that
adding b2 per rank or averaging instead of summing shows, and with d_model divisible by world_size
so that a wrong split along the input still runs (and fails on values). float64 cases use float64
tolerances (a float32 computation is ~1e-7 off and fails every one of them). Every tensor input
also arrives non-contiguous (a transposed layout, a strided vector). Formulas are checked on numbers
where the wrong readings differ: GPipe's (p - 1) / (m + p - 1), integer division, ZeRO stage 2 with
unsharded gradients, 8 instead of 12 bytes of optimizer state.
"""

from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    assert_close,
    assert_equal,
    assert_number,
    describe,
    expect_value_error,
    explained,
    non_contiguous,
    points,
    randn,
)

# (out, in, world_size): world_size 1, non-square, odd shard sizes (3, 5), out != in multiples.
SHARD_CASES = [(8, 6, 2), (12, 5, 4), (15, 9, 3), (4, 4, 1), (10, 10, 5)]
ROW_CASES = [(6, 8, 2), (5, 12, 4), (9, 15, 3), (4, 4, 1), (3, 10, 5)]
# (N, d_model, hidden, world_size): 1 token, d_model divisible by world_size, hidden = 4 * d or not.
MLP_CASES = [(1, 4, 16, 2), (5, 6, 12, 3), (7, 8, 32, 4), (3, 10, 20, 1), (9, 12, 24, 6)]
MLP_LOOSE = 2.0  # the ranks' partial sums are added in another order than the dense product


def _per_rank(value, function, world_size):
    if not isinstance(value, (list, tuple)):
        raise AssertionError(f"{function}() must return a list with one entry per rank, got {type(value).__name__}")
    if len(value) != world_size:
        raise AssertionError(f"{function}() returned {len(value)} shards for world_size={world_size}")
    return list(value)


def _pair(shard, rank):
    if not isinstance(shard, (list, tuple)) or len(shard) != 2:
        got = type(shard).__name__ + (f" of length {len(shard)}" if isinstance(shard, (list, tuple)) else "")
        raise AssertionError(f"column_parallel_shards(): the shard of rank {rank} must be a (W_i, b_i) pair, got {got}")
    return shard


def _rows(rank, size):
    return f"rows {rank * size}..{(rank + 1) * size - 1}"


def _check_column_shards(got, W, b, world_size, inputs):
    size = W.shape[0] // world_size
    for rank, shard in enumerate(_per_rank(got, "column_parallel_shards", world_size)):
        W_i, b_i = _pair(shard, rank)
        where = f"(rank {rank} of {world_size} holds {_rows(rank, size)} of W, contiguous; {inputs})"
        assert_equal(W_i, W[rank * size:(rank + 1) * size], name=f"W_{rank}", context=where)
        assert_equal(b_i, b[rank * size:(rank + 1) * size], name=f"b_{rank}",
                     context=where.replace("of W,", "of W and the same entries of b,"))


def _check_row_shards(got, W, world_size, inputs):
    size = W.shape[1] // world_size
    for rank, W_i in enumerate(_per_rank(got, "row_parallel_shards", world_size)):
        assert_equal(W_i, W[:, rank * size:(rank + 1) * size], name=f"W_{rank}",
                     context=f"(rank {rank} of {world_size} holds columns {rank * size}..{(rank + 1) * size - 1} "
                             f"of W: the split is along in, dim 1; {inputs})")


@points(12)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("out_features,in_features,world_size", SHARD_CASES)
def test_column_parallel_shards_are_contiguous_blocks_of_rows(submission, rng, out_features, in_features,
                                                              world_size, dtype):
    W = randn(rng, out_features, in_features, dtype=dtype)
    b = randn(rng, out_features, dtype=dtype)
    got = submission.column_parallel_shards(W, b, world_size)
    _check_column_shards(got, W, b, world_size, describe(W=W, b=b, world_size=world_size))


@points(12)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("out_features,in_features,world_size", ROW_CASES)
def test_row_parallel_shards_are_contiguous_blocks_of_columns(submission, rng, out_features, in_features,
                                                              world_size, dtype):
    W = randn(rng, out_features, in_features, dtype=dtype)
    got = submission.row_parallel_shards(W, world_size)
    _check_row_shards(got, W, world_size, describe(W=W, world_size=world_size))


@points(4)
def test_shards_reassemble_the_weight_and_the_row_parallel_product(submission, rng):
    W = randn(rng, 6, 12)
    b = randn(rng, 6)
    shards = _per_rank(submission.column_parallel_shards(W, b, 3), "column_parallel_shards", 3)
    assert_equal(torch.cat([_pair(s, r)[0] for r, s in enumerate(shards)], dim=0), W,
                 name="torch.cat(column shards, dim=0)", context=describe(W=W, world_size=3))
    rows = _per_rank(submission.row_parallel_shards(W, 4), "row_parallel_shards", 4)
    x = randn(rng, 5, 12)
    partial_sum = sum(x_i @ W_i.T for x_i, W_i in zip(x.chunk(4, dim=-1), rows))
    assert_close(partial_sum, x @ W.T, name="sum over ranks of x_i @ W_i.T",
                 context=f"(rank i's row shard must multiply the i-th slice of the input features; "
                         f"{describe(W=W, world_size=4)})")


def _mlp(rng, N, d, hidden, dtype):
    x = randn(rng, N, d, dtype=dtype)
    W1 = randn(rng, hidden, d, dtype=dtype, scale=d ** -0.5)
    b1 = randn(rng, hidden, dtype=dtype, scale=0.5)
    W2 = randn(rng, d, hidden, dtype=dtype, scale=hidden ** -0.5)
    b2 = randn(rng, d, dtype=dtype, shift=1.0)  # clearly nonzero: p * b2 must show
    return x, W1, b1, W2, b2


def _dense(x, W1, b1, W2, b2):
    return F.gelu(x @ W1.T + b1) @ W2.T + b2


def _mlp_inputs(x, W1, b1, W2, b2, world_size):
    return describe(x=x, W1=W1, b1=b1, W2=W2, b2=b2, world_size=world_size)


@points(16)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("N,d,hidden,world_size", MLP_CASES)
def test_tp_mlp_forward_equals_the_dense_mlp(submission, rng, N, d, hidden, world_size, dtype):
    x, W1, b1, W2, b2 = _mlp(rng, N, d, hidden, dtype)
    out = submission.tp_mlp_forward(x, W1, b1, W2, b2, world_size)
    with explained("The result must equal the dense gelu(x @ W1.T + b1) @ W2.T + b2 (exact erf GELU), in x's dtype."):
        assert_close(out, _dense(x, W1, b1, W2, b2), name="tensor-parallel MLP output", loose=MLP_LOOSE,
                     context=_mlp_inputs(x, W1, b1, W2, b2, world_size))


@points(8)
@pytest.mark.parametrize("world_size", [2, 4])
def test_tp_mlp_forward_sums_ranks_once_and_adds_b2_once(submission, world_size):
    # Every hidden unit sees x = [1, 1] with pre-activation 2 (gelu(2) ~ 1.9545); W2 sums them all into
    # output 0 and takes their negation into output 1. b2 = [10, 20].
    hidden = 4
    x = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    W1 = torch.ones(hidden, 2, dtype=torch.float64)
    b1 = torch.zeros(hidden, dtype=torch.float64)
    W2 = torch.stack([torch.ones(hidden), -torch.ones(hidden)]).to(torch.float64)
    b2 = torch.tensor([10.0, 20.0], dtype=torch.float64)
    g = F.gelu(torch.tensor(2.0, dtype=torch.float64))
    expected = torch.stack([hidden * g + 10.0, -hidden * g + 20.0])[None]
    out = submission.tp_mlp_forward(x, W1, b1, W2, b2, world_size)
    with explained(f"The all-reduce is a SUM of the ranks' partial outputs and b2 is added once after it: b2 on "
                   f"every rank adds {world_size} * b2, an average divides the rest by {world_size}."):
        assert_close(out, expected, name="tensor-parallel MLP output",
                     context=f"(W1 = 1, b1 = 0, W2 = [1; -1], b2 = [10, 20], world_size={world_size})")


@points(4)
def test_tp_mlp_forward_keeps_float64_precision(submission, rng):
    # b2 cancels the rest exactly (computed here in float64), so the output is ~0 while the partial
    # sums are ~30: a float32 computation leaves errors near 1e-5.
    x, W1, b1, W2, _ = _mlp(rng, 6, 8, 16, torch.float64)
    W2 = W2 * 20.0
    b2 = -(F.gelu(x @ W1.T + b1) @ W2.T).mean(dim=0)
    out = submission.tp_mlp_forward(x, W1, b1, W2, b2, 4)
    with explained("float64 inputs must be computed in float64 (casting to float32 and back loses ~7 digits)."):
        assert_close(out, _dense(x, W1, b1, W2, b2), name="tensor-parallel MLP output", rtol=1e-9, atol=1e-9,
                     context=_mlp_inputs(x, W1, b1, W2, b2, 4))


@points(9)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("function", ["column_parallel_shards", "row_parallel_shards", "tp_mlp_forward"])
def test_non_contiguous_inputs(submission, rng, function, dtype):
    # Weights in a transposed layout (as W.T of a stored [in, out] matrix), vectors with stride 2.
    if function == "column_parallel_shards":
        W, b = non_contiguous(randn(rng, 12, 7, dtype=dtype)), non_contiguous(randn(rng, 12, dtype=dtype))
        _check_column_shards(submission.column_parallel_shards(W, b, 3), W, b, 3, describe(W=W, b=b, world_size=3))
    elif function == "row_parallel_shards":
        W = non_contiguous(randn(rng, 5, 12, dtype=dtype))
        _check_row_shards(submission.row_parallel_shards(W, 4), W, 4, describe(W=W, world_size=4))
    else:
        x, W1, b1, W2, b2 = (non_contiguous(t) for t in _mlp(rng, 5, 6, 12, dtype))
        out = submission.tp_mlp_forward(x, W1, b1, W2, b2, 3)
        assert_close(out, _dense(x, W1, b1, W2, b2), name="tensor-parallel MLP output", loose=MLP_LOOSE,
                     context=_mlp_inputs(x, W1, b1, W2, b2, 3))


@points(10)
@pytest.mark.parametrize("p,m", [(4, 8), (1, 5), (8, 1), (3, 7), (2, 2), (16, 64), (5, 3)])
def test_pipeline_bubble_fraction_is_p_minus_1_over_m(submission, p, m):
    got = submission.pipeline_bubble_fraction(p, m)
    expected = float(Fraction(p - 1, m))
    with explained(f"Megatron's bubble is relative to the ideal compute time: (p - 1) / m = {expected:.6g} "
                   f"(GPipe's share of total time (p - 1) / (m + p - 1) = {(p - 1) / (m + p - 1):.6g} is not asked)."):
        assert_number(got, expected, name=f"pipeline_bubble_fraction(p={p}, m={m})", rel=1e-12)


ZERO_CASES = [(1, 3), (12, 1), (1_000_003, 7), (7_500_000_000, 64)]  # small P first: floor division shows plainly
ZERO_WHY = {0: "no sharding: 2 P fp16 params + 2 P fp16 grads + 12 P fp32 Adam states (master, momentum, variance)",
            1: "stage 1 shards the 12 P of optimizer states: 4 P + 12 P / N",
            2: "stage 2 also shards the 2 P of gradients: 2 P + 14 P / N",
            3: "stage 3 also shards the 2 P of parameters: 16 P / N"}


@points(12)
@pytest.mark.parametrize("stage", [0, 1, 2, 3])
@pytest.mark.parametrize("P,N", ZERO_CASES)
def test_zero_bytes_per_device_follows_the_zero_paper(submission, P, N, stage):
    expected = float({0: Fraction(16 * P), 1: 4 * P + Fraction(12 * P, N), 2: 2 * P + Fraction(14 * P, N),
                      3: Fraction(16 * P, N)}[stage])
    got = submission.zero_bytes_per_device(P, N, stage)
    with explained(ZERO_WHY[stage] + "."):
        assert_number(got, expected, rel=1e-12, name=f"zero_bytes_per_device(num_params={P:,}, dp_degree={N}, "
                                                     f"stage={stage})")


@points(3)
@pytest.mark.parametrize("stage", [0, 1, 2, 3])
def test_zero_on_one_device_is_16_bytes_per_parameter_at_every_stage(submission, stage):
    with explained("With dp_degree=1 there is nothing to shard across: 16 bytes per parameter at every stage."):
        assert_number(submission.zero_bytes_per_device(1_000_000, 1, stage), 16_000_000.0,
                      name=f"zero_bytes_per_device(num_params=1,000,000, dp_degree=1, stage={stage})")


# (function, the bad call in words) -> (the argument names the violated condition involves, the call).
BAD_CALLS = {
    ("column_parallel_shards", "W [6, 9], world_size=4: out=6 is not divisible by 4"):
        (("world_size", "W", "out"), lambda s, a: s.column_parallel_shards(a["W"], a["b"], 4)),
    ("column_parallel_shards", "W [6, 9], world_size=0"):
        (("world_size",), lambda s, a: s.column_parallel_shards(a["W"], a["b"], 0)),
    ("column_parallel_shards", "W [6, 9], world_size=-2"):
        (("world_size",), lambda s, a: s.column_parallel_shards(a["W"], a["b"], -2)),
    ("row_parallel_shards", "W [6, 9], world_size=2: in=9 is not divisible by 2"):
        (("world_size", "W"), lambda s, a: s.row_parallel_shards(a["W"], 2)),
    ("row_parallel_shards", "W [6, 9], world_size=0"): (("world_size",), lambda s, a: s.row_parallel_shards(a["W"], 0)),
    ("tp_mlp_forward", "hidden h=6, world_size=4: 6 is not divisible by 4"):
        (("world_size", "W1", "b1", "W2", "h"), lambda s, a: s.tp_mlp_forward(*a["mlp"], 4)),
    ("tp_mlp_forward", "world_size=0"): (("world_size",), lambda s, a: s.tp_mlp_forward(*a["mlp"], 0)),
    ("pipeline_bubble_fraction", "p=0, m=4"): (("p",), lambda s, a: s.pipeline_bubble_fraction(0, 4)),
    ("pipeline_bubble_fraction", "p=4, m=0"): (("m",), lambda s, a: s.pipeline_bubble_fraction(4, 0)),
    ("pipeline_bubble_fraction", "p=-1, m=4"): (("p",), lambda s, a: s.pipeline_bubble_fraction(-1, 4)),
    ("zero_bytes_per_device", "stage=4"): (("stage",), lambda s, a: s.zero_bytes_per_device(1000, 8, 4)),
    ("zero_bytes_per_device", "stage=-1"): (("stage",), lambda s, a: s.zero_bytes_per_device(1000, 8, -1)),
}


@points(10)
@pytest.mark.parametrize("function,case", list(BAD_CALLS))
def test_rejects_bad_arguments(submission, rng, function, case):
    names, call = BAD_CALLS[function, case]
    inputs = {"W": randn(rng, 6, 9), "b": randn(rng, 6), "mlp": _mlp(rng, 3, 4, 6, torch.float64)}
    with explained(f"{function}({case}) must raise ValueError naming {' or '.join(names)}."), expect_value_error(*names):
        call(submission, inputs)
