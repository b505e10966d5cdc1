"""Question 56's reference kernels against independent peers: torch.tensor_split, the dense nn.Sequential
MLP, and the numbers printed in the ZeRO paper (7.5B parameters on 64 GPUs)."""

from __future__ import annotations

import pytest
import torch

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(56)).load_reference()


def _rand(g, *shape):
    return torch.randn(*shape, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("out_features,in_features,world_size", [(8, 6, 2), (15, 9, 3), (12, 20, 4), (5, 5, 1)])
def test_shards_match_torch_tensor_split_along_out_and_in(ref, out_features, in_features, world_size):
    g = torch.Generator().manual_seed(out_features)
    W, b = _rand(g, out_features, in_features), _rand(g, out_features)
    columns = ref.column_parallel_shards(W, b, world_size)
    peers = zip(torch.tensor_split(W, world_size, 0), torch.tensor_split(b, world_size))
    for (W_i, b_i), (peer_W, peer_b) in zip(columns, peers):
        assert torch.equal(W_i, peer_W) and torch.equal(b_i, peer_b)
    if in_features % world_size == 0:
        for W_i, peer in zip(ref.row_parallel_shards(W, world_size), torch.tensor_split(W, world_size, 1)):
            assert torch.equal(W_i, peer)


@pytest.mark.parametrize("world_size", [1, 2, 4, 8])
def test_tensor_parallel_mlp_equals_the_dense_nn_sequential_mlp(ref, world_size):
    g = torch.Generator().manual_seed(world_size)
    d, hidden = 8, 32
    mlp = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, d)).double()
    with torch.no_grad():
        for p in mlp.parameters():
            p.copy_(_rand(g, *p.shape))
        x = _rand(g, 5, d)
        expected = mlp(x)
    fc1, fc2 = mlp[0], mlp[2]
    W1, b1, W2, b2 = (t.detach() for t in (fc1.weight, fc1.bias, fc2.weight, fc2.bias))
    out = ref.tp_mlp_forward(x, W1, b1, W2, b2, world_size)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


def test_zero_memory_matches_the_paper_example_7_5b_parameters_on_64_gpus(ref):
    # Rajbhandari et al. 2020, Figure 1: 120 GB baseline, 31.4 GB (P_os), 16.6 GB (P_os+g), 1.9 GB (P_os+g+p).
    P, N = 7_500_000_000, 64
    gb = [ref.zero_bytes_per_device(P, N, stage) / 1e9 for stage in range(4)]
    assert gb[0] == 120.0
    assert round(gb[1], 1) == 31.4 and round(gb[2], 1) == 16.6 and gb[3] == 1.875


def test_megatron_bubble_relates_to_gpipe_share_of_total_time(ref):
    # GPipe's share of total time is (p - 1) / (m + p - 1) = b / (1 + b) with Megatron's b = (p - 1) / m.
    for p, m in [(4, 8), (2, 1), (8, 32), (1, 3)]:
        b = ref.pipeline_bubble_fraction(p, m)
        assert isinstance(b, float)
        assert abs(b / (1 + b) - (p - 1) / (m + p - 1)) < 1e-15
