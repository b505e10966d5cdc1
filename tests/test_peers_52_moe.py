"""The reference of question 52 (MoE routing and the balancing loss) against independent peers (facts.md Q52 (e)).

Peers: the definitions written out token by token in Python, the Switch Transformers form
E**2 * mean(f * P), and, when transformers is installed, its load_balancing_loss_func (float32 inside
in 5.x, hence the 1e-5 comparison).
"""

import math

import pytest
import torch
import torch.nn.functional as F

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(52)).load_reference()


def _logits(seed, T, E):
    return torch.randn(T, E, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2


@pytest.mark.parametrize("T,E,k", [(9, 4, 1), (17, 8, 2), (6, 5, 5)])
def test_loss_matches_the_definition_token_by_token(ref, T, E, k):
    logits = _logits(T, T, E)
    probs = [[math.exp(v) for v in row] for row in logits.tolist()]
    probs = [[p / sum(row) for p in row] for row in probs]
    f = [0.0] * E
    for row in probs:
        for e in sorted(range(E), key=lambda j: -row[j])[:k]:
            f[e] += 1 / T
    P = [sum(row[e] for row in probs) / T for e in range(E)]
    assert math.isclose(float(ref.load_balancing_loss(logits, k)), E * sum(a * b for a, b in zip(f, P)), rel_tol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_loss_matches_switch_transformers_form(ref, k):
    logits = _logits(k, 21, 6)
    probs = torch.softmax(logits, dim=-1)
    mask = F.one_hot(torch.topk(probs, k).indices, 6).amax(dim=-2).double()
    switch = torch.mean(mask.mean(dim=0) * probs.mean(dim=0)) * 6 ** 2
    assert torch.allclose(ref.load_balancing_loss(logits, k), switch, rtol=1e-12, atol=0)


def test_loss_matches_transformers_when_installed(ref):
    mixtral = pytest.importorskip("transformers.models.mixtral.modeling_mixtral")
    logits = _logits(7, 30, 8)
    for k in (1, 2):
        peer = mixtral.load_balancing_loss_func((logits,), num_experts=8, top_k=k)
        assert abs(float(peer) - float(ref.load_balancing_loss(logits, k))) < 1e-5


@pytest.mark.parametrize("renormalize", [False, True])
def test_moe_forward_matches_a_per_token_loop(ref, renormalize):
    g = torch.Generator().manual_seed(3)
    T, d, h, E, k = 7, 5, 6, 4, 2
    x = torch.randn(T, d, generator=g, dtype=torch.float64)
    gate_w = torch.randn(E, d, generator=g, dtype=torch.float64)
    w_in = torch.randn(E, h, d, generator=g, dtype=torch.float64)
    w_out = torch.randn(E, d, h, generator=g, dtype=torch.float64)
    out = ref.moe_forward(x, gate_w, w_in, w_out, k, renormalize)
    for t in range(T):
        probs = torch.softmax(x[t] @ gate_w.T, dim=-1)
        chosen = sorted(range(E), key=lambda e: -float(probs[e]))[:k]
        total = sum(float(probs[e]) for e in chosen)
        want = sum((float(probs[e]) / (total if renormalize else 1.0))
                   * (F.gelu(x[t] @ w_in[e].T) @ w_out[e].T) for e in chosen)
        assert torch.allclose(out[t], want, rtol=1e-12, atol=1e-12)
