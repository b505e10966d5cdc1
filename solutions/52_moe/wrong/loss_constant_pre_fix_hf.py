"""Known-wrong: the loss is a constant (E): the router probability is averaged over the experts of the top-k softmax, not over tokens (transformers' load_balancing_loss_func before its fix)."""
# quizgen: question 52

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
    routing_weights, selected_experts = torch.topk(router_logits, k, dim=-1)
    routing_weights = routing_weights.softmax(dim=-1)
    expert_mask = F.one_hot(selected_experts, num_experts)
    expert_mask = torch.max(expert_mask, dim=-2).values
    tokens_per_group_and_expert = torch.mean(expert_mask.to(router_logits.dtype), dim=-2)
    router_prob_per_group_and_expert = torch.mean(routing_weights, dim=-1)
    return torch.mean(tokens_per_group_and_expert * router_prob_per_group_and_expert.mean()) * (num_experts ** 2)


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
