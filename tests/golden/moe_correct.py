# quizgen: question 52
"""Reference kernels for question 52: top-k routing, the load-balancing loss, and an MoE layer.

Conventions follow the contract in `quiz stub 52`: Mixtral renormalizes the top-k
probabilities (HF MixtralSparseMoeBlock), Switch keeps the raw softmax probability; the balancing
loss counts all k choices so that sum_e f_e == k (HF load_balancing_loss_func), without alpha.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_k(k: int, num_experts: int) -> None:
    if k < 1 or k > num_experts:
        raise ValueError(f"k must be in [1, E={num_experts}], got k={k}")


def route_top_k(router_logits: Tensor, k: int, renormalize: bool) -> tuple[Tensor, Tensor]:
    _check_k(k, router_logits.shape[-1])
    probs = torch.softmax(router_logits, dim=-1)
    weights, indices = torch.topk(probs, k, dim=-1, largest=True, sorted=True)
    if renormalize:
        weights = weights / weights.sum(dim=-1, keepdim=True)
    return weights, indices.to(torch.int64)


def load_balancing_loss(router_logits: Tensor, k: int) -> Tensor:
    num_experts = router_logits.shape[-1]
    _check_k(k, num_experts)
    probs = torch.softmax(router_logits, dim=-1)
    _, indices = torch.topk(probs, k, dim=-1)
    chosen = F.one_hot(indices, num_experts).sum(dim=-2).to(probs.dtype)  # [T, E], 1 where e is among top-k
    f = chosen.mean(dim=0)
    P = probs.mean(dim=0)
    return num_experts * (f * P).sum()


def moe_forward(x: Tensor, gate_w: Tensor, w_in: Tensor, w_out: Tensor, k: int, renormalize: bool) -> Tensor:
    weights, indices = route_top_k(x @ gate_w.T, k, renormalize)
    out = torch.zeros_like(x)
    for e in range(w_in.shape[0]):
        token_idx, slot = torch.nonzero(indices == e, as_tuple=True)
        if token_idx.numel() == 0:
            continue
        hidden = F.gelu(x[token_idx] @ w_in[e].T)
        out.index_add_(0, token_idx, (hidden @ w_out[e].T) * weights[token_idx, slot, None])
    return out
