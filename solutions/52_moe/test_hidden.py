"""Hidden suite for question 52 (moe). Runs in the trusted process; see quizgen.grading.suite.

Inputs avoid ties between expert probabilities (continuous random logits), so top-k is unique.
Hand-built cases come first and pin the conventions (Switch keeps the raw probability, Mixtral
renormalizes, the loss is k when balanced and E when collapsed); seeded random cases then compare
with the reference over every branch: k = 1, 1 < k < E and k = E, renormalize True and False,
float32 and float64 (float64 to ~1e-9: routing or experts computed in float32 fail), and
non-contiguous inputs (logits transposed from [E, T], weights stored transposed). Each "Raises" case
accepts a message naming any argument its condition involves (k > E: k, E or the tensor E comes from).
"""

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    assert_close,
    assert_equal,
    describe,
    expect_tuple,
    expect_value_error,
    explained,
    non_contiguous,
    points,
    randn,
)

# (T, E, k): odd token counts, an E that is not a power of two, k = 1 (Switch) up to k = E.
ROUTING_CASES = [(1, 4, 1), (7, 8, 2), (33, 5, 3), (64, 8, 1), (19, 6, 6)]


def _logits(rng, T, E, dtype, scale=2.0):
    return randn(rng, T, E, dtype=dtype, scale=scale)


def _transposed(t: torch.Tensor) -> torch.Tensor:
    """The same values stored transposed (authoring helper): a [T, E] view of an [E, T] tensor."""
    return t.T.contiguous().T


def _routed(submission, logits, k, renormalize):
    result = submission.route_top_k(logits, k, renormalize)
    return expect_tuple(result, 2, "route_top_k", "(weights, indices)")


# ----------------------------------------------------------------------------------------------------
# route_top_k
# ----------------------------------------------------------------------------------------------------

@points(5)
def test_route_top_k_switch_gate_is_the_raw_probability(submission):
    logits = torch.tensor([[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 3.0, -2.0]], dtype=torch.float64)
    weights, indices = _routed(submission, logits, 1, False)
    probs = torch.softmax(logits, dim=-1)
    context = "for " + describe(router_logits=logits, k=1, renormalize=False)
    assert_equal(indices, torch.tensor([[0], [2]]), name="expert indices (int64)", context=context)
    with explained("Switch (k=1, renormalize=False) multiplies by p_i(x) itself, the softmax over ALL experts; "
                   "renormalizing a single weight would give 1"):
        assert_close(weights, probs.max(dim=-1, keepdim=True).values, name="Switch gate", context=context)


@points(5)
def test_route_top_k_mixtral_hand_built(submission):
    # probabilities [0.5, 0.3, 0.15, 0.05] (logits are their logs): top-2 = experts 0 and 1, and
    # renormalized weights 0.5 / 0.8 = 0.625 and 0.3 / 0.8 = 0.375.
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05], [0.05, 0.15, 0.3, 0.5]], dtype=torch.float64)
    logits = probs.log()
    weights, indices = _routed(submission, logits, 2, True)
    context = "for " + describe(router_logits=logits, k=2, renormalize=True)
    assert_equal(indices, torch.tensor([[0, 1], [3, 2]]), name="expert indices", context=context
                 + " (ordered by descending probability)")
    with explained("Mixtral (renormalize=True) divides the chosen probabilities by their sum: "
                   "0.5 / 0.8 = 0.625 and 0.3 / 0.8 = 0.375"):
        assert_close(weights, torch.tensor([[0.625, 0.375], [0.625, 0.375]], dtype=torch.float64),
                     name="Mixtral weights", context=context)
    weights, _ = _routed(submission, logits, 2, False)
    with explained("renormalize=False keeps the softmax probabilities of the chosen experts (0.5 and 0.3)"):
        assert_close(weights, torch.tensor([[0.5, 0.3], [0.5, 0.3]], dtype=torch.float64),
                     name="weights with renormalize=False", context=context.replace("True", "False"))


@points(16)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("renormalize", [False, True])
@pytest.mark.parametrize("T,E,k", ROUTING_CASES)
def test_route_top_k_matches_reference(submission, reference, rng, T, E, k, renormalize, dtype):
    logits = _logits(rng, T, E, dtype)
    weights, indices = _routed(submission, logits, k, renormalize)
    want_w, want_i = reference.route_top_k(logits, k, renormalize)
    context = "for " + describe(router_logits=logits, k=k, renormalize=renormalize)
    assert_equal(indices, want_i, name="expert indices (int64)", context=context + " (top-k by probability, descending)")
    assert_close(weights, want_w, name="routing weights", context=context)


@points(4)
@pytest.mark.parametrize("k", [2, 3])
def test_route_top_k_mixtral_weights_sum_to_one(submission, rng, k):
    logits = _logits(rng, 11, 8, torch.float64)
    weights, _ = _routed(submission, logits, k, True)
    assert_close(weights.sum(dim=-1), torch.ones(11, dtype=torch.float64), name="sum of renormalized weights",
                 context="for " + describe(router_logits=logits, k=k, renormalize=True))


@points(4)
@pytest.mark.parametrize("renormalize", [False, True])
@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_route_top_k_non_contiguous_logits(submission, reference, rng, layout, renormalize):
    logits = _logits(rng, 9, 6, torch.float64)
    logits = _transposed(logits) if layout == "transposed" else non_contiguous(logits)
    weights, indices = _routed(submission, logits, 2, renormalize)
    want_w, want_i = reference.route_top_k(logits, 2, renormalize)
    context = "for " + describe(router_logits=logits, k=2, renormalize=renormalize)
    assert_equal(indices, want_i, name="expert indices", context=context)
    assert_close(weights, want_w, name="routing weights", context=context)


# ----------------------------------------------------------------------------------------------------
# load_balancing_loss
# ----------------------------------------------------------------------------------------------------

@points(12)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("T,E,k", ROUTING_CASES)
def test_load_balancing_loss_matches_reference(submission, reference, rng, T, E, k, dtype):
    logits = _logits(rng, T, E, dtype)
    loss = submission.load_balancing_loss(logits, k)
    assert_close(loss, reference.load_balancing_loss(logits, k), name="load-balancing loss (a 0-dim tensor)",
                 context="for " + describe(router_logits=logits, k=k)
                 + " (E * sum_e f_e * P_e: f_e the fraction of tokens with e among their top k, P_e the mean probability)")


@points(8)
@pytest.mark.parametrize("E,k", [(4, 1), (8, 2), (6, 3)])
def test_load_balancing_loss_is_k_when_perfectly_balanced(submission, E, k):
    # Token t prefers experts t, t+1, ..., t+k-1 (cyclic), so each expert gets the same share f_e = k / E;
    # the other logits differ per token, so the P_e differ (the loss is k whatever P is, as sum_e P_e = 1).
    logits = -(torch.arange(E * E, dtype=torch.float64).reshape(E, E) % 5) / 4
    for t in range(E):
        for j in range(k):
            logits[t, (t + j) % E] = 8.0 - j
    loss = submission.load_balancing_loss(logits, k)
    with explained(f"perfect balance: every f_e = k / E and the P_e sum to 1, so E * sum_e f_e * P_e = k = {k} "
                   "(f counts all k choices of each token)"):
        assert_close(loss, torch.tensor(float(k), dtype=torch.float64), name="balanced loss (a 0-dim tensor)",
                     context="for " + describe(router_logits=logits, k=k))


@points(5)
def test_load_balancing_loss_is_E_when_collapsed(submission):
    E = 8
    logits = torch.full((16, E), -40.0, dtype=torch.float64)
    logits[:, 3] = 40.0
    loss = submission.load_balancing_loss(logits, 1)
    with explained("every token on expert 3: f_3 = 1 and P_3 = 1, so the loss is E * 1 * 1 = E = 8"):
        assert_close(loss, torch.tensor(float(E), dtype=torch.float64), name="collapsed loss", rtol=1e-9, atol=1e-9,
                     context="for " + describe(router_logits=logits, k=1))


@points(3)
@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_load_balancing_loss_non_contiguous_logits(submission, reference, rng, layout):
    logits = _logits(rng, 13, 5, torch.float64)
    logits = _transposed(logits) if layout == "transposed" else non_contiguous(logits)
    loss = submission.load_balancing_loss(logits, 2)
    assert_close(loss, reference.load_balancing_loss(logits, 2), name="load-balancing loss",
                 context="for " + describe(router_logits=logits, k=2))


# ----------------------------------------------------------------------------------------------------
# moe_forward
# ----------------------------------------------------------------------------------------------------

def _moe_inputs(rng, T, d, h, E, dtype):
    x = randn(rng, T, d, dtype=dtype)
    gate_w = randn(rng, E, d, dtype=dtype, scale=0.7)
    w_in = randn(rng, E, h, d, dtype=dtype, scale=d ** -0.5)
    w_out = randn(rng, E, d, h, dtype=dtype, scale=h ** -0.5)
    return x, gate_w, w_in, w_out


def _moe_context(x, gate_w, w_in, w_out, k, renormalize):
    return "for " + describe(x=x, gate_w=gate_w, w_in=w_in, w_out=w_out, k=k, renormalize=renormalize)


@points(5)
def test_moe_forward_with_all_experts_is_the_dense_mixture(submission, rng):
    T, d, h, E = 10, 8, 12, 4
    x, gate_w, w_in, w_out = _moe_inputs(rng, T, d, h, E, torch.float64)
    probs = torch.softmax(x @ gate_w.T, dim=-1)
    experts = torch.stack([F.gelu(x @ w_in[e].T) @ w_out[e].T for e in range(E)], dim=1)  # [T, E, d]
    dense = (probs[..., None] * experts).sum(dim=1)
    out = submission.moe_forward(x, gate_w, w_in, w_out, E, True)
    with explained("with k = E every expert runs and the weights are the full softmax: "
                   "out[t] = sum_e softmax(x @ gate_w.T)[t, e] * gelu(x[t] @ w_in[e].T) @ w_out[e].T (exact erf GELU)"):
        assert_close(out, dense, name="MoE output with k = E", context=_moe_context(x, gate_w, w_in, w_out, E, True))


@points(16)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("renormalize", [False, True])
@pytest.mark.parametrize("T,d,h,E,k", [(1, 8, 16, 4, 1), (13, 12, 20, 5, 2), (40, 16, 24, 8, 2), (9, 6, 10, 3, 3)])
def test_moe_forward_matches_reference(submission, reference, rng, T, d, h, E, k, renormalize, dtype):
    args = _moe_inputs(rng, T, d, h, E, dtype)
    out = submission.moe_forward(*args, k, renormalize)
    assert_close(out, reference.moe_forward(*args, k, renormalize), name="MoE output", loose=4.0,
                 context=_moe_context(*args, k, renormalize))


@points(5)
@pytest.mark.parametrize("renormalize", [False, True])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_moe_forward_non_contiguous_inputs(submission, reference, rng, dtype, renormalize):
    # gate_w stored as [d, E], expert weights stored with their last two dims swapped.
    x, gate_w, w_in, w_out = _moe_inputs(rng, 11, 8, 12, 5, dtype)
    x, gate_w = non_contiguous(x), _transposed(gate_w)
    w_in, w_out = w_in.transpose(1, 2).contiguous().transpose(1, 2), non_contiguous(w_out)
    out = submission.moe_forward(x, gate_w, w_in, w_out, 2, renormalize)
    assert_close(out, reference.moe_forward(x, gate_w, w_in, w_out, 2, renormalize), name="MoE output", loose=4.0,
                 context=_moe_context(x, gate_w, w_in, w_out, 2, renormalize))


# ----------------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------------

# k = 0 involves only k; k = E + 1 involves k and E, which comes from router_logits (or, in moe_forward,
# from gate_w, w_in and w_out).
TOO_LARGE_NAMES = {"route_top_k": ("k", "E", "router_logits"), "load_balancing_loss": ("k", "E", "router_logits"),
                   "moe_forward": ("k", "E", "gate_w", "w_in", "w_out")}


@points(12)
@pytest.mark.parametrize("function", ["route_top_k", "load_balancing_loss", "moe_forward"])
@pytest.mark.parametrize("k", [0, -1, 5])
def test_rejects_k_outside_1_to_E(submission, rng, function, k):
    x, gate_w, w_in, w_out = _moe_inputs(rng, 3, 4, 6, 4, torch.float32)  # E = 4
    logits = x @ gate_w.T
    calls = {
        "route_top_k": lambda: submission.route_top_k(logits, k, True),
        "load_balancing_loss": lambda: submission.load_balancing_loss(logits, k),
        "moe_forward": lambda: submission.moe_forward(x, gate_w, w_in, w_out, k, False),
    }
    with expect_value_error(*(TOO_LARGE_NAMES[function] if k > 4 else ("k",))):
        calls[function]()
