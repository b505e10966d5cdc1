"""Question 52 (moe): write the functions below, then run `quiz submit moe.py`.

Shapes: T tokens, E experts, d model width, h expert hidden width.
Rules for every function:
- Inputs are never modified: return new tensors (or views of an input).
- Inputs are float32 or float64, on the CPU or CUDA, and may be non-contiguous (transposed, sliced):
  use .reshape, not .view. Float results keep the input's dtype and device; expert indices are int64.
- float64 inputs must be computed in float64: float64 results are checked to about 1e-9 relative,
  so computing in float32 and casting back fails.
- Tests use continuous random logits, so no two experts tie for a token.
"""
# quizgen: question 52

from __future__ import annotations

import math

import torch
from torch import Tensor


def route_top_k(router_logits: Tensor, k: int, renormalize: bool) -> tuple[Tensor, Tensor]:
    """Top-k routing: router_logits [T, E] -> (weights [T, k], expert indices int64 [T, k]).

    probs = softmax(router_logits) over the experts (dim=-1, all E of them). For each token take the k
    experts of largest probability, ordered by DESCENDING probability (column 0 is the most likely).
    weights are those experts' probabilities:
      - renormalize=False (Switch Transformer): left as they are (for k=1, the gate is p_i(x) itself);
      - renormalize=True (Mixtral): divided by their sum over the k chosen experts, so each row sums to 1.
    weights have router_logits' dtype and device.

    Raises:
        ValueError: if k < 1 or k > E (the message names k).
    """
    raise NotImplementedError


def load_balancing_loss(router_logits: Tensor, k: int) -> Tensor:
    """The Switch Transformer auxiliary loss, counting all k choices: a 0-dim tensor
        E * sum_e f_e * P_e            (no alpha coefficient)
    where, for router_logits [T, E] and probs = softmax(router_logits, dim=-1):
      - P_e = mean over the T tokens of probs[:, e] (the full softmax, every expert);
      - f_e = fraction of the T tokens that have e among their top-k experts, so sum_e f_e == k.
    k=1 is Switch's loss: 1.0 when perfectly balanced, E when every token picks the same expert; in
    general a perfectly balanced routing gives k. Returns router_logits' dtype, on its device.

    Raises:
        ValueError: if k < 1 or k > E (the message names k).
    """
    raise NotImplementedError


def moe_forward(x: Tensor, gate_w: Tensor, w_in: Tensor, w_out: Tensor, k: int, renormalize: bool) -> Tensor:
    """A mixture-of-experts layer: x [T, d] -> out [T, d].

    gate_w [E, d]: router_logits = x @ gate_w.T, routed as in route_top_k(router_logits, k, renormalize).
    w_in [E, h, d] and w_out [E, d, h]: expert e(x) = gelu(x @ w_in[e].T) @ w_out[e].T with the exact
    (erf) GELU, torch.nn.functional.gelu's default, not the tanh approximation.
        out[t] = sum_j weights[t, j] * expert_{indices[t, j]}(x[t])
    (each token through its k chosen experts only, the weight applied to the expert's output).
    Same dtype and device as x.

    Raises:
        ValueError: if k < 1 or k > E (the message names k).
    """
    raise NotImplementedError
