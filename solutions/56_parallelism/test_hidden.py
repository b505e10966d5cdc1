"""Hidden suite for question 56 (parallelism). Runs in the trusted process; see quizgen.grading.suite.

Shards are compared exactly (they are copies or views of W). The tensor-parallel MLP is compared
with the dense MLP computed here (the peer of facts.md), with b2 != 0 and world_size > 1 so that
adding b2 per rank or averaging instead of summing shows, and with d_model divisible by world_size
so that a wrong split along the input still runs (and fails on values). Formulas are checked on
numbers where the wrong readings differ: GPipe's (p - 1) / (m + p - 1), integer division, ZeRO
stage 2 with unsharded gradients.
"""

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import (FLOAT_DTYPES, assert_close, assert_equal, assert_number, expect_value_error,
                                   points, randn)

# (out, in, world_size): world_size 1, non-square, odd shard sizes (3, 5), out != in multiples.
SHARD_CASES = [(8, 6, 2), (12, 5, 4), (15, 9, 3), (4, 4, 1), (10, 10, 5)]
ROW_CASES = [(6, 8, 2), (5, 12, 4), (9, 15, 3), (4, 4, 1), (3, 10, 5)]
# (N, d_model, hidden, world_size): 1 token, d_model divisible by world_size, hidden = 4 * d or not.
MLP_CASES = [(1, 4, 16, 2), (5, 6, 12, 3), (7, 8, 32, 4), (3, 10, 20, 1), (9, 12, 24, 6)]


def _sequence(value, what):
    if not isinstance(value, (list, tuple)):
        raise AssertionError(f"{what}: expected a list with one entry per rank, got {type(value).__name__}")
    return list(value)


@points(14)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("out_features,in_features,world_size", SHARD_CASES)
def test_column_parallel_shards_are_contiguous_blocks_of_rows(submission, reference, rng, out_features, in_features,
                                                              world_size, dtype):
    W = randn(rng, out_features, in_features, dtype=dtype)
    b = randn(rng, out_features, dtype=dtype)
    shards = _sequence(submission.column_parallel_shards(W, b, world_size), "column_parallel_shards")
    want = reference.column_parallel_shards(W, b, world_size)
    if len(shards) != world_size:
        raise AssertionError(f"column_parallel_shards returned {len(shards)} shards for world_size={world_size}")
    for rank, (shard, (want_W, want_b)) in enumerate(zip(shards, want)):
        shard = _sequence(shard, f"shard of rank {rank}")
        if len(shard) != 2:
            raise AssertionError(f"shard of rank {rank}: expected a (W_i, b_i) pair, got {len(shard)} entries")
        context = (f"(rank {rank} of {world_size}, W [{out_features}, {in_features}]: rows "
                   f"{rank * out_features // world_size}..{(rank + 1) * out_features // world_size - 1}, contiguous)")
        assert_equal(shard[0], want_W, name=f"W_{rank}", context=context)
        assert_equal(shard[1], want_b, name=f"b_{rank}", context=context + " - b is split with W")


@points(14)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("out_features,in_features,world_size", ROW_CASES)
def test_row_parallel_shards_are_contiguous_blocks_of_columns(submission, reference, rng, out_features, in_features,
                                                              world_size, dtype):
    W = randn(rng, out_features, in_features, dtype=dtype)
    shards = _sequence(submission.row_parallel_shards(W, world_size), "row_parallel_shards")
    want = reference.row_parallel_shards(W, world_size)
    if len(shards) != world_size:
        raise AssertionError(f"row_parallel_shards returned {len(shards)} shards for world_size={world_size}")
    for rank, (shard, want_W) in enumerate(zip(shards, want)):
        assert_equal(shard, want_W, name=f"W_{rank}",
                     context=f"(rank {rank} of {world_size}, W [{out_features}, {in_features}] split along in: columns "
                             f"{rank * in_features // world_size}..{(rank + 1) * in_features // world_size - 1})")


@points(4)
def test_shards_reassemble_the_weight_and_the_row_parallel_product(submission, rng):
    W = randn(rng, 6, 12)
    b = randn(rng, 6)
    columns = [_sequence(s, "shard")[0] for s in _sequence(submission.column_parallel_shards(W, b, 3), "shards")]
    assert_equal(torch.cat(columns, dim=0), W, name="torch.cat(column shards, dim=0)")
    rows = _sequence(submission.row_parallel_shards(W, 4), "row_parallel_shards")
    x = randn(rng, 5, 12)
    partial_sum = sum(x_i @ W_i.T for x_i, W_i in zip(x.chunk(4, dim=-1), rows))
    assert_close(partial_sum, x @ W.T, name="sum over ranks of x_i @ W_i.T",
                 context="(rank i's row shard must multiply the i-th slice of the input features)")


def _mlp(rng, N, d, hidden, dtype):
    x = randn(rng, N, d, dtype=dtype)
    W1 = randn(rng, hidden, d, dtype=dtype, scale=d ** -0.5)
    b1 = randn(rng, hidden, dtype=dtype, scale=0.5)
    W2 = randn(rng, d, hidden, dtype=dtype, scale=hidden ** -0.5)
    b2 = randn(rng, d, dtype=dtype, shift=1.0)  # clearly nonzero: p * b2 must show
    return x, W1, b1, W2, b2


def _dense(x, W1, b1, W2, b2):
    return F.gelu(x @ W1.T + b1) @ W2.T + b2


@points(16)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("N,d,hidden,world_size", MLP_CASES)
def test_tp_mlp_forward_equals_the_dense_mlp(submission, rng, N, d, hidden, world_size, dtype):
    x, W1, b1, W2, b2 = _mlp(rng, N, d, hidden, dtype)
    out = submission.tp_mlp_forward(x, W1, b1, W2, b2, world_size)
    assert_close(out, _dense(x, W1, b1, W2, b2), name="tensor-parallel MLP output", loose=4.0,
                 context=f"(world_size={world_size}, x [{N}, {d}], hidden {hidden}: must equal "
                         "gelu(x @ W1.T + b1) @ W2.T + b2, the dense MLP)")


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
    assert_close(out, expected, name="tensor-parallel MLP output",
                 context=f"(world_size={world_size}: the all-reduce is a SUM of the ranks' partial outputs and b2 is "
                         f"added once after it; b2 on every rank adds {world_size} * b2, an average divides by "
                         f"{world_size})")


@points(4)
def test_tp_mlp_forward_keeps_float64_precision(submission, rng):
    # b2 cancels the rest exactly (computed here in float64), so the output is ~0 while the partial
    # sums are ~30: a float32 computation leaves errors near 1e-5.
    x, W1, b1, W2, _ = _mlp(rng, 6, 8, 16, torch.float64)
    W2 = W2 * 20.0
    b2 = -(F.gelu(x @ W1.T + b1) @ W2.T).mean(dim=0)
    out = submission.tp_mlp_forward(x, W1, b1, W2, b2, 4)
    assert_close(out, _dense(x, W1, b1, W2, b2), name="tensor-parallel MLP output", rtol=1e-9, atol=1e-9,
                 context="(float64 inputs must be computed in float64)")


@points(10)
@pytest.mark.parametrize("p,m,expected", [(4, 8, 0.375), (1, 5, 0.0), (8, 1, 7.0), (3, 7, 2 / 7), (2, 2, 0.5),
                                          (16, 64, 15 / 64)])
def test_pipeline_bubble_fraction_is_p_minus_1_over_m(submission, p, m, expected):
    got = submission.pipeline_bubble_fraction(p, m)
    assert_number(got, expected, name=f"bubble fraction for p={p} stages, m={m} micro-batches "
                                      f"(Megatron: (p - 1) / m, not GPipe's (p - 1) / (m + p - 1) = "
                                      f"{(p - 1) / (m + p - 1):.6g})")


ZERO_CASES = [(7_500_000_000, 64), (1_000_003, 7), (12, 1), (1, 3)]


@points(12)
@pytest.mark.parametrize("stage", [0, 1, 2, 3])
@pytest.mark.parametrize("P,N", ZERO_CASES)
def test_zero_bytes_per_device_follows_the_zero_paper(submission, P, N, stage):
    expected = {0: 16 * P, 1: 4 * P + 12 * P / N, 2: 2 * P + 14 * P / N, 3: 16 * P / N}[stage]
    names = {0: "no sharding: 16 P", 1: "stage 1 shards the 12 P of optimizer states: 4 P + 12 P / N",
             2: "stage 2 also shards the 2 P of gradients: 2 P + 14 P / N", 3: "stage 3 shards everything: 16 P / N"}
    got = submission.zero_bytes_per_device(P, N, stage)
    assert_number(got, expected, rel=1e-12, name=f"bytes per device for P={P:,}, N={N}, stage {stage} ({names[stage]})")


@points(3)
def test_zero_on_one_device_is_16_bytes_per_parameter_at_every_stage(submission):
    for stage in range(4):
        assert_number(submission.zero_bytes_per_device(1_000_000, 1, stage), 16_000_000.0,
                      name=f"stage {stage} with dp_degree=1 (nothing to shard across)")


# Divisibility involves two arguments: a message naming either is fine.
BAD_CALLS = {
    "column_not_divisible": ("world_size", "W"), "column_world_size_0": ("world_size",),
    "row_not_divisible": ("world_size", "W"), "row_world_size_0": ("world_size",),
    "mlp_hidden_not_divisible": ("world_size", "W1", "W2"), "mlp_world_size_0": ("world_size",),
    "bubble_p_0": ("p",), "bubble_m_0": ("m",), "zero_stage_4": ("stage",), "zero_stage_minus_1": ("stage",),
}


@points(15)
@pytest.mark.parametrize("call", list(BAD_CALLS))
def test_rejects_bad_arguments(submission, rng, call):
    W = randn(rng, 6, 9)
    b = randn(rng, 6)
    x, W1, b1, W2, b2 = _mlp(rng, 3, 4, 6, torch.float64)
    calls = {
        "column_not_divisible": lambda: submission.column_parallel_shards(W, b, 4),    # out = 6
        "column_world_size_0": lambda: submission.column_parallel_shards(W, b, 0),
        "row_not_divisible": lambda: submission.row_parallel_shards(W, 2),               # in = 9
        "row_world_size_0": lambda: submission.row_parallel_shards(W, 0),
        "mlp_hidden_not_divisible": lambda: submission.tp_mlp_forward(x, W1, b1, W2, b2, 4),  # hidden = 6
        "mlp_world_size_0": lambda: submission.tp_mlp_forward(x, W1, b1, W2, b2, 0),
        "bubble_p_0": lambda: submission.pipeline_bubble_fraction(0, 4),
        "bubble_m_0": lambda: submission.pipeline_bubble_fraction(4, 0),
        "zero_stage_4": lambda: submission.zero_bytes_per_device(1000, 8, 4),
        "zero_stage_minus_1": lambda: submission.zero_bytes_per_device(1000, 8, -1),
    }
    with expect_value_error(*BAD_CALLS[call]):
        calls[call]()
