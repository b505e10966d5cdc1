"""Hidden suite for question 54 (lora). Runs in the trusted process; see quizgen.grading.suite.

Random cases use a nonzero B (a trained adapter), so every scaling mistake shows; the hand-built
case uses alpha = 16, r = 4, where alpha / r = 4 differs from alpha (16), r / alpha (0.25) and
rsLoRA's alpha / sqrt(r) (8); random cases include alpha / r = 1.5 and 0.5, where alpha // r differs.
Gradients run in the worker (harness "grad") and are compared with autograd through the reference here.
float64 cases are checked to ~1e-9 (a float32 update or merge fails), and x, W0, b0, A and B also
arrive non-contiguous (W0 stored transposed, as PEFT's fan_in_fan_out weights are). The rank-mismatch
error may name r or A: the condition r != A.shape[0] involves both.
"""

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    assert_close,
    assert_equal,
    assert_number,
    describe,
    expect_tuple,
    expect_value_error,
    explained,
    non_contiguous,
    points,
    randn,
)

# (leading dims of x, in, out, r, alpha): 1-D x, batch > 1 with two leading dims, in != out, r = 1, size 1,
# and alpha / r that is not an integer (12 / 8 = 1.5, 0.5 / 1), where alpha // r differs.
LINEAR_CASES = [((7,), 5, 6, 2, 8.0), ((2, 3), 8, 4, 3, 3.0), ((), 6, 9, 1, 16.0), ((1,), 1, 1, 1, 0.5),
                ((4, 5), 16, 12, 8, 32.0), ((3,), 7, 5, 8, 12.0)]


def _adapter(rng, lead, fan_in, fan_out, r, dtype):
    x = randn(rng, *lead, fan_in, dtype=dtype)
    W0 = randn(rng, fan_out, fan_in, dtype=dtype, scale=fan_in ** -0.5)
    b0 = randn(rng, fan_out, dtype=dtype, scale=0.5)
    A = randn(rng, r, fan_in, dtype=dtype, scale=fan_in ** -0.5)
    B = randn(rng, fan_out, r, dtype=dtype, scale=0.5)  # a trained (nonzero) B
    return x, W0, b0, A, B


def _case(x, W0, b0, A, B, alpha, r):
    return "for " + describe(x=x, W0=W0, b0=b0, A=A, B=B, alpha=alpha, r=r)


@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_lora_linear_scaling_is_alpha_over_r(submission, dtype):
    # x picks input feature 0; A copies it into rank slots 0 and 3; B reads slot 0 into output 0
    # and slot 3 into output 1, so each output moves by exactly alpha / r.
    r, alpha = 4, 16.0
    x = torch.tensor([[1.0, 0.0, 0.0]], dtype=dtype)
    W0 = torch.zeros(2, 3, dtype=dtype)
    b0 = torch.tensor([0.5, -0.5], dtype=dtype)
    A = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]], dtype=dtype)
    B = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]], dtype=dtype)
    # x @ A.T = [1, 0, 0, 1]; (x @ A.T) @ B.T = [1, 1]; scaled by alpha / r = 4.
    expected = torch.tensor([[4.5, 3.5]], dtype=dtype)
    out = submission.lora_linear(x, W0, b0, A, B, alpha, r)
    with explained("x @ A.T = [1, 0, 0, 1] and (x @ A.T) @ B.T = [1, 1], so each output moves by alpha / r = 4 "
                   "from b0 = [0.5, -0.5]; a scaling of alpha gives 16, r / alpha 0.25, rsLoRA's alpha / sqrt(r) 8"):
        assert_close(out, expected, name="lora_linear output", context=_case(x, W0, b0, A, B, alpha, r))


@points(12)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("lead,fan_in,fan_out,r,alpha", LINEAR_CASES)
def test_lora_linear_matches_reference(submission, reference, rng, lead, fan_in, fan_out, r, alpha, dtype):
    x, W0, b0, A, B = _adapter(rng, lead, fan_in, fan_out, r, dtype)
    out = submission.lora_linear(x, W0, b0, A, B, alpha, r)
    assert_close(out, reference.lora_linear(x, W0, b0, A, B, alpha, r), name="lora_linear output", loose=4.0,
                 context=_case(x, W0, b0, A, B, alpha, r) + " (x @ W0.T + b0 + (alpha / r) * (x @ A.T) @ B.T)")


@points(13)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("lead,fan_in,fan_out,r,alpha", [((5,), 6, 4, 2, 4.0), ((2, 3), 7, 9, 3, 12.0),
                                                         ((1,), 1, 1, 1, 0.5)])
def test_lora_linear_gradients_reach_x_A_and_B(submission, reference, rng, lead, fan_in, fan_out, r, alpha, dtype):
    x, W0, b0, A, B = _adapter(rng, lead, fan_in, fan_out, r, dtype)
    g = randn(rng, *lead, fan_out, dtype=dtype)
    got = submission.harness("grad", "lora_linear", x, W0, b0, A, B, alpha, r,
                             params={"requires_grad": [0, 3, 4], "grad_output": g})
    leaves = [t.detach().clone().requires_grad_(True) for t in (x, A, B)]
    out = reference.lora_linear(leaves[0], W0, b0, leaves[1], leaves[2], alpha, r)
    (out * g).sum().backward()
    assert_close(got["output"], out.detach(), name="lora_linear output", loose=4.0)
    for label, grad, leaf in zip(("x", "A", "B"), got["grads"], leaves):
        if grad is None:
            raise AssertionError(f"no gradient reached {label} {_case(x, W0, b0, A, B, alpha, r)}: "
                                 "do not detach it, wrap it in no_grad, or copy it through .data")
        assert_close(grad, leaf.grad, name=f"gradient of {label}", loose=4.0,
                     context=_case(x, W0, b0, A, B, alpha, r) + " (every path from x, A and B to the output carries gradient)")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_lora_linear_equals_base_layer_when_B_is_zero(submission, rng, dtype):
    x, W0, b0, A, _ = _adapter(rng, (3, 2), 7, 5, 3, dtype)
    B = torch.zeros(5, 3, dtype=dtype)
    out = submission.lora_linear(x, W0, b0, A, B, 6.0, 3)
    assert_close(out, F.linear(x, W0, b0), name="lora_linear output with B = 0",
                 context=_case(x, W0, b0, A, B, 6.0, 3) + " (a fresh adapter must not change the frozen layer: x @ W0.T + b0)")


@points(5)
def test_lora_linear_keeps_float64_precision(submission, rng):
    # W0 = -(alpha / r) * B @ A cancels the adapter: the output is b0 although both paths are ~100.
    x, _, b0, A, B = _adapter(rng, (6,), 10, 8, 4, torch.float64)
    A, B = A * 30.0, B * 30.0
    W0 = -(12.0 / 4) * (B @ A)
    out = submission.lora_linear(x, W0, b0, A, B, 12.0, 4)
    assert_close(out, b0.expand(6, 8), name="lora_linear output",
                 context=_case(x, W0, b0, A, B, 12.0, 4) + " (float64 inputs: W0 = -(alpha / r) * B @ A, so the frozen and low-rank paths cancel; "
                         "computing either in float32 leaves an error near 1e-5)")


def _laid_out(t, layout):
    """``t`` in another memory layout (authoring helper): "transposed" (stored as its transpose, as
    PEFT's fan_in_fan_out weights are), "strided" (suite.non_contiguous) or "expanded" (row 0 broadcast)."""
    if layout == "transposed":
        return t.T.contiguous().T if t.dim() == 2 else t.transpose(0, -1).contiguous().transpose(0, -1)
    if layout == "strided":
        return non_contiguous(t)
    return t[:1].expand(t.shape)


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", ["transposed", "strided", "expanded"])
def test_lora_linear_and_merge_non_contiguous_inputs(submission, reference, rng, layout, dtype):
    x, W0, b0, A, B = _adapter(rng, (3, 4), 6, 5, 2, dtype)
    x = _laid_out(x, layout)
    W0, A, B = (t.T.contiguous().T if layout != "strided" else non_contiguous(t) for t in (W0, A, B))
    b0 = non_contiguous(b0)
    out = submission.lora_linear(x, W0, b0, A, B, 6.0, 2)
    assert_close(out, reference.lora_linear(x, W0, b0, A, B, 6.0, 2), name="lora_linear output", loose=4.0,
                 context=_case(x, W0, b0, A, B, 6.0, 2) + " (inputs may be non-contiguous: use .reshape, not .view)")
    merged = submission.merge_lora(W0, A, B, 6.0, 2)
    assert_close(merged, reference.merge_lora(W0, A, B, 6.0, 2), name="merged weight",
                 context="for " + describe(W0=W0, A=A, B=B, alpha=6.0, r=2))


@points(10)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("fan_in,fan_out,r,alpha", [(5, 6, 2, 8.0), (8, 3, 3, 3.0), (1, 1, 1, 0.5), (12, 16, 4, 16.0)])
def test_merge_lora_matches_reference(submission, reference, rng, fan_in, fan_out, r, alpha, dtype):
    _, W0, _, A, B = _adapter(rng, (1,), fan_in, fan_out, r, dtype)
    merged = submission.merge_lora(W0, A, B, alpha, r)
    assert_close(merged, reference.merge_lora(W0, A, B, alpha, r), name="merged weight",
                 context="for " + describe(W0=W0, A=A, B=B, alpha=alpha, r=r) + " (W0 + (alpha / r) * B @ A)")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_merged_weight_reproduces_the_adapted_layer(submission, rng, dtype):
    x, W0, b0, A, B = _adapter(rng, (4, 3), 9, 7, 3, dtype)
    merged = submission.merge_lora(W0, A, B, 6.0, 3)
    # Independent of the reference: the adapted layer computed here, unmerged.
    expected = x @ W0.T + b0 + 2.0 * ((x @ A.T) @ B.T)
    assert_close(F.linear(x, merged, b0), expected, name="F.linear(x, merged weight, b0)", loose=4.0,
                 context="for " + describe(W0=W0, A=A, B=B, alpha=6.0, r=3) + " (merging must not change the layer's output: no extra latency at inference)")


@points(10)
@pytest.mark.parametrize("fan_in,fan_out,r,seed", [(16, 8, 4, 0), (7, 5, 3, 1234), (1, 1, 1, 7),
                                                    (64, 32, 8, 2**40 + 3)])
def test_init_lora_matches_kaiming_uniform_from_the_seed(submission, reference, fan_in, fan_out, r, seed):
    A, B = expect_tuple(submission.init_lora(fan_in, fan_out, r, seed), 2, "init_lora", "(A, B)")
    want_A, want_B = reference.init_lora(fan_in, fan_out, r, seed)
    assert_equal(A, want_A, name="A (float32 [r, in])",
                 context=f"for in_features={fan_in}, out_features={fan_out}, r={r}, seed={seed} (torch.nn.init.kaiming_uniform_(A, a=math.sqrt(5), "
                         "generator=torch.Generator().manual_seed(seed)) on a float32 [r, in] tensor)")
    assert_equal(B, want_B, name="B", context="(zeros [out, r], float32)")


@points(5)
@pytest.mark.parametrize("fan_in,fan_out,r", [(100, 30, 8), (9, 40, 2)])
def test_init_lora_B_is_zero_and_A_is_bounded(submission, fan_in, fan_out, r):
    A, B = expect_tuple(submission.init_lora(fan_in, fan_out, r, 99), 2, "init_lora", "(A, B)")
    assert_equal(B, torch.zeros(fan_out, r), name="B",
                 context="(B starts at zero, so the adapted layer equals the frozen one at step 0)")
    bound, largest = fan_in ** -0.5, float(A.abs().max())
    if largest > bound * (1 + 1e-6):
        raise AssertionError(f"max |A| is {largest:.6g}, above 1/sqrt(in) = {bound:.6g}: kaiming_uniform_ with "
                             "a=sqrt(5) samples uniformly in +-1/sqrt(in)")
    if largest < 0.5 * bound or float(A.std()) < 0.3 * bound:
        raise AssertionError(f"A looks degenerate (max |A| {largest:.3g}, std {float(A.std()):.3g}); "
                             "with A = 0 and B = 0 neither matrix ever receives a gradient")


@points(5)
def test_init_lora_same_seed_same_A(submission):
    A1, _ = expect_tuple(submission.init_lora(10, 6, 3, 42), 2, "init_lora", "(A, B)")
    A2, _ = expect_tuple(submission.init_lora(10, 6, 3, 42), 2, "init_lora", "(A, B)")
    A3, _ = expect_tuple(submission.init_lora(10, 6, 3, 43), 2, "init_lora", "(A, B)")
    assert_equal(A2, A1, name="A from the same seed twice",
                 context="(draw from a private torch.Generator().manual_seed(seed), not the global RNG)")
    if torch.equal(A3, A1):
        raise AssertionError("init_lora gave the same A for seeds 42 and 43: the seed must drive the draw")


@points(5)
@pytest.mark.parametrize("shapes,r,expected", [
    ([(4096, 4096), (4096, 4096)] * 32, 8, 4_194_304),  # Llama-2-7B, q and v in 32 layers
    ([(6, 5)], 2, 22),
    ([(3, 7), (11, 2), (1, 1)], 3, 3 * (10 + 13 + 2)),
    ([], 4, 0),
])
def test_lora_trainable_params_is_r_times_in_plus_out(submission, shapes, r, expected):
    got = submission.lora_trainable_params(shapes, r)
    shown = shapes if len(shapes) <= 4 else f"{shapes[:2]} ... ({len(shapes)} matrices)"
    assert_number(got, expected, integer=True, name="trainable parameters",
                  context=f"for shapes={shown}, r={r} (sum of r * (in + out), a Python int)")


# (function, r): A has rank 2. r = 3 and r = 1 violate r == A.shape[0], which involves r and A; r = 0 and -1
# violate r >= 1 too. A message naming either r or A is accepted for the two functions that take A.
BAD_R = [("lora_linear", 0), ("lora_linear", 3), ("merge_lora", -1), ("merge_lora", 1), ("init_lora", 0),
         ("lora_trainable_params", 0)]


@points(10)
@pytest.mark.parametrize("function,r", BAD_R)
def test_rejects_bad_r(submission, rng, function, r):
    x, W0, b0, A, B = _adapter(rng, (2,), 5, 4, 2, torch.float32)  # A has rank 2
    calls = {
        "lora_linear": lambda: submission.lora_linear(x, W0, b0, A, B, 4.0, r),
        "merge_lora": lambda: submission.merge_lora(W0, A, B, 4.0, r),
        "init_lora": lambda: submission.init_lora(5, 4, r, 0),
        "lora_trainable_params": lambda: submission.lora_trainable_params([(4, 5)], r),
    }
    with expect_value_error(*(("r", "A") if function in ("lora_linear", "merge_lora") else ("r",))):
        calls[function]()
