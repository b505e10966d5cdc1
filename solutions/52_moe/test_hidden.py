"""Hidden suite for question 52 (moe). Runs in the trusted process; see quizgen.grading.suite.

Inputs avoid ties between expert probabilities (continuous random logits), so top-k is unique.
"""

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import FLOAT_DTYPES, assert_close, assert_equal, expect_value_error, points, randn

# (T, E, k): odd token counts, an E that is not a power of two, k = 1 (Switch) up to k = E.
ROUTING_CASES = [(1, 4, 1), (7, 8, 2), (33, 5, 3), (64, 8, 1), (19, 6, 6)]


def _logits(rng, T, E, dtype, scale=2.0):
    return randn(rng, T, E, dtype=dtype, scale=scale)


@points(20)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("renormalize", [False, True])
@pytest.mark.parametrize("T,E,k", ROUTING_CASES)
def test_route_top_k_matches_reference(submission, reference, rng, T, E, k, renormalize, dtype):
    logits = _logits(rng, T, E, dtype)
    weights, indices = submission.route_top_k(logits, k, renormalize)
    want_w, want_i = reference.route_top_k(logits, k, renormalize)
    assert_equal(indices, want_i, name="expert indices", context="(top-k by probability, descending)")
    assert_close(weights, want_w, name="routing weights")


@points(5)
def test_route_top_k_switch_gate_is_the_raw_probability(submission):
    logits = torch.tensor([[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 3.0, -2.0]], dtype=torch.float64)
    weights, indices = submission.route_top_k(logits, 1, False)
    probs = torch.softmax(logits, dim=-1)
    assert_equal(indices, torch.tensor([[0], [2]]), name="expert indices")
    assert_close(weights, probs.max(dim=-1, keepdim=True).values, name="Switch gate (k=1, not renormalized)",
                 context="(Switch multiplies by p_i(x) itself; renormalizing a single weight gives 1)")


@points(5)
@pytest.mark.parametrize("k", [2, 3])
def test_route_top_k_mixtral_weights_sum_to_one(submission, rng, k):
    logits = _logits(rng, 11, 8, torch.float64)
    weights, _ = submission.route_top_k(logits, k, True)
    assert_close(weights.sum(dim=-1), torch.ones(11, dtype=torch.float64), name="sum of renormalized weights")


@points(15)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("T,E,k", ROUTING_CASES)
def test_load_balancing_loss_matches_reference(submission, reference, rng, T, E, k, dtype):
    logits = _logits(rng, T, E, dtype)
    loss = submission.load_balancing_loss(logits, k)
    assert_close(loss, reference.load_balancing_loss(logits, k), name="load-balancing loss",
                 context="(E * sum_e f_e * P_e, f counting all k choices)")


@points(10)
@pytest.mark.parametrize("E,k", [(4, 1), (8, 2), (6, 3)])
def test_load_balancing_loss_is_k_when_perfectly_balanced(submission, E, k):
    # Token t prefers experts t, t+1, ..., t+k-1 (cyclic), so each expert gets the same share.
    logits = torch.zeros(E, E, dtype=torch.float64)
    for t in range(E):
        for j in range(k):
            logits[t, (t + j) % E] = 8.0 - j
    loss = submission.load_balancing_loss(logits, k)
    assert_close(loss, torch.tensor(float(k), dtype=torch.float64), name="balanced loss",
                 context=f"(perfect balance gives k = {k})")


@points(5)
def test_load_balancing_loss_is_E_when_collapsed(submission):
    E = 8
    logits = torch.full((16, E), -40.0, dtype=torch.float64)
    logits[:, 3] = 40.0
    loss = submission.load_balancing_loss(logits, 1)
    assert_close(loss, torch.tensor(float(E), dtype=torch.float64), name="collapsed loss", rtol=1e-9, atol=1e-9,
                 context="(every token on one expert gives E)")


def _moe_inputs(rng, T, d, h, E, dtype):
    x = randn(rng, T, d, dtype=dtype)
    gate_w = randn(rng, E, d, dtype=dtype, scale=0.7)
    w_in = randn(rng, E, h, d, dtype=dtype, scale=d ** -0.5)
    w_out = randn(rng, E, d, h, dtype=dtype, scale=h ** -0.5)
    return x, gate_w, w_in, w_out


@points(20)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("renormalize", [False, True])
@pytest.mark.parametrize("T,d,h,E,k", [(1, 8, 16, 4, 1), (13, 12, 20, 5, 2), (40, 16, 24, 8, 2), (9, 6, 10, 3, 3)])
def test_moe_forward_matches_reference(submission, reference, rng, T, d, h, E, k, renormalize, dtype):
    args = _moe_inputs(rng, T, d, h, E, dtype)
    out = submission.moe_forward(*args, k, renormalize)
    assert_close(out, reference.moe_forward(*args, k, renormalize), name="MoE output", loose=4.0)


@points(5)
def test_moe_forward_with_all_experts_is_the_dense_mixture(submission, rng):
    T, d, h, E = 10, 8, 12, 4
    x, gate_w, w_in, w_out = _moe_inputs(rng, T, d, h, E, torch.float64)
    probs = torch.softmax(x @ gate_w.T, dim=-1)
    experts = torch.stack([F.gelu(x @ w_in[e].T) @ w_out[e].T for e in range(E)], dim=1)  # [T, E, d]
    dense = (probs[..., None] * experts).sum(dim=1)
    out = submission.moe_forward(x, gate_w, w_in, w_out, E, True)
    assert_close(out, dense, name="MoE output with k = E", context="(exact erf GELU; weights are the softmax)")


@points(15)
@pytest.mark.parametrize("function", ["route_top_k", "load_balancing_loss", "moe_forward"])
@pytest.mark.parametrize("k", [0, 5])
def test_rejects_k_outside_1_to_E(submission, rng, function, k):
    x, gate_w, w_in, w_out = _moe_inputs(rng, 3, 4, 6, 4, torch.float32)
    logits = x @ gate_w.T
    calls = {
        "route_top_k": lambda: submission.route_top_k(logits, k, True),
        "load_balancing_loss": lambda: submission.load_balancing_loss(logits, k),
        "moe_forward": lambda: submission.moe_forward(x, gate_w, w_in, w_out, k, False),
    }
    with expect_value_error("k"):
        calls[function]()
