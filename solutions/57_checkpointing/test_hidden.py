"""Hidden suite for question 57 (checkpointing). Runs in the trusted process; see quizgen.grading.suite.

Modules cannot cross into the worker, so each test describes its layers as data and the worker-side
harness "checkpoint" (quizgen/sandbox/harnesses/checkpoint.py) builds them, calls
checkpointed_forward, runs backward and reports the output, every gradient, which layers ran during
the call and during backward, and every dropout mask drawn. Expected values come from plain autograd
here, on the same layers, replaying the masks the forward drew: independent of the RNG's device.
Each layer ends with an op that saves a tensor for backward (tanh, linear, a dropout mask), so that
non-reentrant checkpointing recomputes every layer of a chunk. float64 cases use float64 tolerances
(rounding any activation to float32 fails them), and one case passes x and every weight in a
non-contiguous layout.
"""

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    assert_close,
    assert_number,
    expect_value_error,
    explained,
    non_contiguous,
    points,
    randn,
)

FORWARD, BACKWARD = 0, 1


# -- the model, described as data ----------------------------------------------------------------
def _linear(rng, d_in, d_out, dtype, bias=True):
    return {"kind": "linear", "weight": randn(rng, d_out, d_in, dtype=dtype, scale=d_in ** -0.5),
            "bias": randn(rng, d_out, dtype=dtype, scale=0.3) if bias else None}


def _block(rng, d_in, d_out, dtype, p=0.0):
    """linear -> (dropout) -> tanh: the last op saves its output, so recomputation runs the whole block."""
    layers = [_linear(rng, d_in, d_out, dtype)]
    if p:
        layers.append({"kind": "dropout", "p": p})
    return {"kind": "sequential", "layers": layers + [{"kind": "tanh"}]}


def _model(rng, n, dtype, widths=(5, 7, 3, 6), dropout_every=0, p=0.3):
    desc, d = [], widths[0]
    for i in range(n):
        d_out = widths[(i + 1) % len(widths)]
        desc.append(_block(rng, d, d_out, dtype, p if dropout_every and i % dropout_every == 1 else 0.0))
        d = d_out
    return desc, widths[0], d


def _chunks(n, segments):
    return [c.tolist() for c in torch.tensor_split(torch.arange(n), segments) if c.numel()]


# -- plain autograd on the same layers, here ------------------------------------------------------
def _params(spec):
    if spec["kind"] == "linear":
        return [spec["weight"]] + ([spec["bias"]] if spec.get("bias") is not None else [])
    if spec["kind"] == "sequential":
        return [p for child in spec["layers"] for p in _params(child)]
    return []


def _apply(spec, h, leaves, masks):
    kind = spec["kind"]
    if kind == "linear":
        W = leaves.pop(0)
        b = leaves.pop(0) if spec.get("bias") is not None else None
        return F.linear(h, W, b)
    if kind == "tanh":
        return torch.tanh(h)
    if kind == "gelu":
        return F.gelu(h)
    if kind == "dropout":
        if not masks:
            raise AssertionError("a dropout layer drew no mask during the forward call: run the layers in "
                                 "training mode and do not skip any")
        keep = masks.pop(0).to(torch.bool)
        if keep.shape != h.shape:
            raise AssertionError(f"a dropout mask has shape {list(keep.shape)}, expected {list(h.shape)}")
        return h * (keep.to(h.dtype) / (1.0 - spec["p"]))
    for child in spec["layers"]:
        h = _apply(child, h, leaves, masks)
    return h


def _plain_autograd(desc, x, g, x_requires_grad, forward_masks):
    params = [p.clone().requires_grad_(True) for spec in desc for p in _params(spec)]
    x_leaf = x.clone().requires_grad_(x_requires_grad)
    leaves, masks = list(params), list(forward_masks)
    h = x_leaf
    for spec in desc:
        h = _apply(spec, h, leaves, masks)
    if masks:
        raise AssertionError(f"the forward call drew {len(forward_masks)} dropout masks, but the model has only "
                             f"{len(forward_masks) - len(masks)} dropout layers: run each layer once during the call")
    (h * g).sum().backward()
    return h.detach(), (x_leaf.grad if x_requires_grad else None), [p.grad for p in params]


def _run(submission, x, desc, segments, g, *, x_requires_grad=True, seed=0):
    got = submission.harness("checkpoint", "checkpointed_forward", x, desc, segments,
                             params={"grad_output": g, "x_requires_grad": x_requires_grad, "seed": seed})
    if got["modified_layers"]:
        raise AssertionError(f"checkpointed_forward changed the parameters of layers {got['modified_layers']}: "
                             "layers are inputs and must not be modified")
    if got.get("x_modified"):
        raise AssertionError("checkpointed_forward changed x in place: inputs must not be modified")
    return got


def _check_against_plain_autograd(got, desc, x, g, x_requires_grad, what):
    forward_masks = [m for _, phase, m in got["masks"] if phase == FORWARD]
    out, x_grad, param_grads = _plain_autograd(desc, x, g, x_requires_grad, forward_masks)
    assert_close(got["output"], out, name="output", loose=2.0, context=what)
    if not got["backward_ran"]:
        raise AssertionError(f"the output does not require grad {what}, so no gradient can reach the parameters: "
                             "the chunks' graph was cut (no_grad and detach, or use_reentrant=True with an input "
                             "that does not require grad)")
    if x_requires_grad:
        if got["x_grad"] is None:
            raise AssertionError(f"no gradient reached x {what}")
        assert_close(got["x_grad"], x_grad, name="gradient of x", loose=2.0, context=what)
    for k, (grad, want) in enumerate(zip(got["param_grads"], param_grads)):
        if grad is None:
            raise AssertionError(f"parameter {k} (in layer order, weight before bias) got no gradient {what}")
        assert_close(grad, want, name=f"gradient of parameter {k} (layer order, weight before bias)", loose=2.0,
                     context=what)


def _phase(got, phase):
    return [index for index, p in got["runs"] if p == phase]


def _check_reruns(got, n, segments, what):
    forward = _phase(got, FORWARD)
    if forward != list(range(n)):
        raise AssertionError(f"during the call the layers ran in the order {forward}; expected each of the {n} layers "
                             f"once, in order {what}")
    chunks = _chunks(n, segments)
    expected = [i for chunk in reversed(chunks) for i in chunk]
    backward = _phase(got, BACKWARD)
    if backward != expected:
        raise AssertionError(
            f"layers re-run during backward: {backward or 'none'}; expected {expected}, i.e. the chunks "
            f"{chunks} (torch.tensor_split of range({n}) into {segments}) each recomputed once, from the last "
            f"chunk to the first {what}")


# -- tests ---------------------------------------------------------------------------------------------------
# (n_layers, segments, x requires grad): uneven splits, one layer per chunk, a single chunk, one layer.
GRAD_CASES = [(6, 2, True), (7, 3, True), (5, 5, True), (4, 1, True), (1, 1, True), (8, 3, False)]


@points(20)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n,segments,x_requires_grad", GRAD_CASES)
def test_output_and_gradients_equal_plain_autograd(submission, rng, n, segments, x_requires_grad, dtype):
    desc, d_in, d_out = _model(rng, n, dtype)
    x, g = randn(rng, 4, d_in, dtype=dtype), randn(rng, 4, d_out, dtype=dtype)
    got = _run(submission, x, desc, segments, g, x_requires_grad=x_requires_grad)
    _check_against_plain_autograd(got, desc, x, g, x_requires_grad,
                                  f"({n} layers, segments={segments}, x.requires_grad={x_requires_grad})")


@points(20)
@pytest.mark.parametrize("n,segments", [(7, 3), (5, 4), (10, 3), (6, 6), (4, 1), (1, 1), (9, 2)])
def test_each_chunk_is_recomputed_during_backward_from_the_last_to_the_first(submission, rng, n, segments):
    desc, d_in, d_out = _model(rng, n, torch.float64)
    x, g = randn(rng, 3, d_in), randn(rng, 3, d_out)
    got = _run(submission, x, desc, segments, g)
    _check_reruns(got, n, segments, f"({n} layers, segments={segments})")


@points(5)
@pytest.mark.parametrize("n,segments", [(3, 5), (1, 4)])
def test_more_segments_than_layers_skips_the_empty_chunks(submission, rng, n, segments):
    desc, d_in, d_out = _model(rng, n, torch.float64)
    x, g = randn(rng, 2, d_in), randn(rng, 2, d_out)
    got = _run(submission, x, desc, segments, g)
    what = f"({n} layers, segments={segments}: one layer per chunk, the empty chunks skipped)"
    _check_against_plain_autograd(got, desc, x, g, True, what)
    _check_reruns(got, n, segments, what)


@points(5)
@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_plain_layers_of_every_kind_are_recomputed(submission, rng, x_requires_grad):
    # Top-level layers are single ops here: linear, gelu, tanh, dropout, each saving something.
    desc = [_linear(rng, 6, 5, torch.float64), {"kind": "gelu"}, _linear(rng, 5, 4, torch.float64, bias=False),
            {"kind": "dropout", "p": 0.25}, {"kind": "tanh"}, _linear(rng, 4, 4, torch.float64)]
    x, g = randn(rng, 5, 6), randn(rng, 5, 4)
    seed = int(torch.randint(2**31, (1,), generator=rng))
    got = _run(submission, x, desc, 4, g, x_requires_grad=x_requires_grad, seed=seed)
    what = f"(linear, gelu, linear, dropout, tanh, linear in 4 segments, x.requires_grad={x_requires_grad})"
    _check_against_plain_autograd(got, desc, x, g, x_requires_grad, what)
    _check_reruns(got, len(desc), 4, what)


@points(15)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n,segments", [(6, 2), (5, 3), (4, 4)])
def test_dropout_masks_are_replayed_when_a_chunk_is_recomputed(submission, rng, n, segments, dtype):
    desc, d_in, d_out = _model(rng, n, dtype, widths=(16, 24, 20), dropout_every=2 if n > 4 else 1, p=0.4)
    x, g = randn(rng, 8, d_in, dtype=dtype), randn(rng, 8, d_out, dtype=dtype)
    seed = int(torch.randint(2**31, (1,), generator=rng))
    got = _run(submission, x, desc, segments, g, seed=seed)
    what = f"({n} layers with dropout p=0.4, segments={segments})"
    drawn = {phase: [(i, m) for i, p, m in got["masks"] if p == phase] for phase in (FORWARD, BACKWARD)}
    if len(drawn[BACKWARD]) != len(drawn[FORWARD]):
        raise AssertionError(f"{len(drawn[FORWARD])} dropout masks were drawn during the call but "
                             f"{len(drawn[BACKWARD])} during backward {what}: every chunk must be recomputed")
    replay = {}
    for i, m in drawn[BACKWARD]:
        replay.setdefault(i, []).append(m)
    for i, m in drawn[FORWARD]:
        again = replay.get(i, [])
        if not again:
            raise AssertionError(f"layer {i}'s dropout was not re-run during backward {what}")
        if not torch.equal(again.pop(0), m):
            raise AssertionError(f"layer {i} drew a different dropout mask when its chunk was recomputed {what}: "
                                 "the RNG state must be saved and restored (preserve_rng_state=True, the default)")
    _check_against_plain_autograd(got, desc, x, g, True, what)


@points(10)
@pytest.mark.parametrize("n,segments", [(4, 2), (3, 3)])
def test_parameters_get_gradients_when_x_does_not_require_grad(submission, rng, n, segments):
    desc, d_in, d_out = _model(rng, n, torch.float64)
    x, g = randn(rng, 3, d_in), randn(rng, 3, d_out)
    got = _run(submission, x, desc, segments, g, x_requires_grad=False)
    what = (f"(x.requires_grad=False, {n} layers, segments={segments}: with use_reentrant=True the first chunk's "
            "output would not require grad and its parameters would get no gradient)")
    _check_against_plain_autograd(got, desc, x, g, False, what)
    _check_reruns(got, n, segments, what)


@points(8)
@pytest.mark.parametrize("n,expected", [(1, 1), (2, 1), (3, 2), (6, 2), (7, 3), (12, 3), (13, 4), (20, 4), (21, 5),
                                        (100, 10), (1000, 32)])
def test_optimal_num_segments_is_the_rounded_square_root(submission, n, expected):
    assert_number(submission.optimal_num_segments(n), expected, integer=True,
                  name=f"optimal_num_segments({n}) (round(sqrt({n})) = round({n ** 0.5:.4f}))")


@points(7)
@pytest.mark.parametrize("n,segments,expected", [(16, 4, 8), (7, 3, 6), (10, 3, 7), (1, 1, 2), (5, 8, 9),
                                                 (100, 10, 20), (1000, 32, 64)])
def test_stored_activations_model_is_segments_plus_ceil_n_over_segments(submission, n, segments, expected):
    assert_number(submission.stored_activations_model(n, segments), expected, integer=True,
                  name=f"stored_activations_model({n}, {segments}) ({segments} chunk inputs + the "
                       f"ceil({n} / {segments}) activations of the chunk being recomputed)")


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n,segments", [(5, 2), (4, 4)])
def test_non_contiguous_inputs(submission, rng, n, segments, dtype):
    # x and every weight in a transposed layout, every bias with stride 2: the same values as contiguous ones.
    desc, d_in, d_out = _model(rng, n, dtype)
    for block in desc:
        for layer in block["layers"]:
            if layer["kind"] == "linear":
                layer["weight"], layer["bias"] = non_contiguous(layer["weight"]), non_contiguous(layer["bias"])
    x, g = non_contiguous(randn(rng, 6, d_in, dtype=dtype)), randn(rng, 6, d_out, dtype=dtype)
    got = _run(submission, x, desc, segments, g)
    what = f"({n} layers, segments={segments}, x [6, {d_in}] and every weight non-contiguous, {str(dtype)[6:]})"
    _check_against_plain_autograd(got, desc, x, g, True, what)
    _check_reruns(got, n, segments, what)


# (function, the bad call in words) -> the argument names the violated condition involves
BAD_CALLS = {
    ("checkpointed_forward", "3 layers, segments=0"): ("segments",),
    ("checkpointed_forward", "3 layers, segments=-1"): ("segments",),
    ("checkpointed_forward", "layers=[] (n_layers=0), segments=2"): ("layers", "n_layers"),
    ("optimal_num_segments", "n_layers=0"): ("n_layers",),
    ("optimal_num_segments", "n_layers=-4"): ("n_layers",),
    ("stored_activations_model", "n_layers=0, segments=2"): ("n_layers",),
    ("stored_activations_model", "n_layers=5, segments=0"): ("segments",),
    ("stored_activations_model", "n_layers=5, segments=-3"): ("segments",),
}


@points(5)
@pytest.mark.parametrize("function,case", list(BAD_CALLS))
def test_rejects_bad_arguments(submission, rng, function, case):
    desc, d_in, d_out = _model(rng, 3, torch.float64)
    x, g = randn(rng, 2, d_in), randn(rng, 2, d_out)
    calls = {
        "3 layers, segments=0": lambda: _run(submission, x, desc, 0, g),
        "3 layers, segments=-1": lambda: _run(submission, x, desc, -1, g),
        "layers=[] (n_layers=0), segments=2": lambda: _run(submission, randn(rng, 2, 4), [], 2, g),
        "n_layers=0": lambda: submission.optimal_num_segments(0),
        "n_layers=-4": lambda: submission.optimal_num_segments(-4),
        "n_layers=0, segments=2": lambda: submission.stored_activations_model(0, 2),
        "n_layers=5, segments=0": lambda: submission.stored_activations_model(5, 0),
        "n_layers=5, segments=-3": lambda: submission.stored_activations_model(5, -3),
    }
    names = BAD_CALLS[function, case]
    with explained(f"{function}({case}) must raise ValueError naming {' or '.join(names)}."), expect_value_error(*names):
        calls[case]()
