"""Question 54's reference kernels against independent peers: nn.Linear, and peft's LoRA Linear.

float64, seeded inputs. peft is not a project dependency: its tests are skipped where it is absent.
"""

from __future__ import annotations

import inspect
import math

import pytest
import torch
import torch.nn.functional as F

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(54)).load_reference()


def _adapter(seed, lead, fan_in, fan_out, r):
    g = torch.Generator().manual_seed(seed)
    rand = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)
    return rand(*lead, fan_in), rand(fan_out, fan_in), rand(fan_out), rand(r, fan_in), rand(fan_out, r)


@pytest.mark.parametrize("lead,fan_in,fan_out,r,alpha",
                         [((5,), 7, 3, 2, 8.0), ((2, 3), 4, 6, 4, 1.0), ((), 5, 5, 1, 3.0)])
def test_lora_linear_is_the_frozen_linear_plus_scaled_low_rank_linears(ref, lead, fan_in, fan_out, r, alpha):
    x, W0, b0, A, B = _adapter(0, lead, fan_in, fan_out, r)
    frozen = torch.nn.Linear(fan_in, fan_out, dtype=torch.float64)
    down = torch.nn.Linear(fan_in, r, bias=False, dtype=torch.float64)
    up = torch.nn.Linear(r, fan_out, bias=False, dtype=torch.float64)
    with torch.no_grad():
        frozen.weight.copy_(W0), frozen.bias.copy_(b0), down.weight.copy_(A), up.weight.copy_(B)
        expected = frozen(x) + up(down(x)) * (alpha / r)
    torch.testing.assert_close(ref.lora_linear(x, W0, b0, A, B, alpha, r), expected, rtol=1e-12, atol=1e-12)


def test_merged_weight_gives_the_same_layer_output(ref):
    x, W0, b0, A, B = _adapter(1, (4, 2), 6, 5, 3)
    merged = ref.merge_lora(W0, A, B, 6.0, 3)
    adapted = ref.lora_linear(x, W0, b0, A, B, 6.0, 3)
    torch.testing.assert_close(F.linear(x, merged, b0), adapted, rtol=1e-12, atol=1e-12)


def test_lora_linear_gradients_match_the_hand_derived_formulas(ref):
    x, W0, b0, A, B = _adapter(2, (3, 4), 6, 5, 2)
    s = 7.0 / 2
    g = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    leaves = [t.clone().requires_grad_(True) for t in (x, A, B)]
    (ref.lora_linear(leaves[0], W0, b0, leaves[1], leaves[2], 7.0, 2) * g).sum().backward()
    xf, gf = x.reshape(-1, 6), g.reshape(-1, 5)
    torch.testing.assert_close(leaves[2].grad, s * gf.T @ (xf @ A.T))          # dL/dB = s * g^T (x A^T)
    torch.testing.assert_close(leaves[1].grad, s * (gf @ B).T @ xf)            # dL/dA = s * (g B)^T x
    torch.testing.assert_close(leaves[0].grad, g @ (W0 + s * B @ A))           # dL/dx = g (W0 + s B A)


@pytest.mark.parametrize("fan_in,fan_out,r,seed", [(16, 8, 4, 0), (7, 5, 3, 1234), (1, 1, 1, 7)])
def test_init_lora_A_is_what_nn_linear_draws_from_the_same_seed(ref, fan_in, fan_out, r, seed):
    # nn.Linear initialises its weight with kaiming_uniform_(a=sqrt(5)), as loralib and peft do for A.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        peer = torch.nn.Linear(fan_in, r, bias=False).weight.detach()
    A, B = ref.init_lora(fan_in, fan_out, r, seed)
    assert torch.equal(A, peer) and A.dtype == torch.float32
    assert torch.equal(B, torch.zeros(fan_out, r)) and B.dtype == torch.float32
    assert float(A.abs().max()) <= 1 / math.sqrt(fan_in)


def test_lora_trainable_params_matches_llama2_7b_counts(ref):
    hidden, inter, layers = 4096, 11008, 32
    attention = [(hidden, hidden)] * 4
    mlp = [(inter, hidden), (inter, hidden), (hidden, inter)]
    assert ref.lora_trainable_params([(hidden, hidden)] * 2 * layers, 8) == 4_194_304      # q, v at r=8
    assert ref.lora_trainable_params((attention + mlp) * layers, 8) == 19_988_480          # all linear, r=8
    assert ref.lora_trainable_params((attention + mlp) * layers, 64) == 159_907_840        # QLoRA's r=64


def test_reference_matches_peft_lora_linear(ref):
    lora_layer = pytest.importorskip("peft.tuners.lora.layer")
    x, W0, b0, A, B = _adapter(4, (3, 2), 9, 7, 4)
    base = torch.nn.Linear(9, 7, dtype=torch.float64)
    with torch.no_grad():
        base.weight.copy_(W0), base.bias.copy_(b0)
    if "config" in inspect.signature(lora_layer.Linear.__init__).parameters:  # peft >= 0.18 takes a LoraConfig
        from peft import LoraConfig

        peer = lora_layer.Linear(base, "default", LoraConfig(r=4, lora_alpha=8), r=4, lora_alpha=8)
    else:
        peer = lora_layer.Linear(base, "default", r=4, lora_alpha=8)
    peer = peer.to(torch.float64)
    with torch.no_grad():
        peer.lora_A["default"].weight.copy_(A)
        peer.lora_B["default"].weight.copy_(B)
        torch.testing.assert_close(ref.lora_linear(x, W0, b0, A, B, 8, 4), peer(x), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(ref.merge_lora(W0, A, B, 8, 4), W0 + peer.get_delta_weight("default"),
                                   rtol=1e-12, atol=1e-12)
