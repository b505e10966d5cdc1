"""Rewrite of never_renormalize.py: sorts the probabilities and keeps the first k, never dividing by their sum."""
# quizgen: question 52

import math

import torch


def _check(k, num_experts):
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k > num_experts:
        raise ValueError(f"k={k} exceeds the number of experts E={num_experts}")


def route_top_k(router_logits, k, renormalize):
    _check(k, router_logits.size(-1))
    router_probs = torch.softmax(router_logits, dim=-1)
    sorted_probs, order = torch.sort(router_probs, dim=-1, descending=True)
    return sorted_probs[:, :k], order[:, :k].long()


def load_balancing_loss(router_logits, k):
    num_experts = router_logits.shape[-1]
    _check(k, num_experts)
    router_probs = torch.softmax(router_logits, dim=-1)
    _, expert_indices = route_top_k(router_logits, k, False)
    expert_mask = torch.nn.functional.one_hot(expert_indices, num_experts)  # [T, k, E]
    expert_mask = torch.max(expert_mask, dim=-2).values  # [T, E]: e is among the top k
    tokens_per_group_and_expert = torch.mean(expert_mask.to(router_probs.dtype), dim=-2)
    router_prob_per_group_and_expert = torch.mean(router_probs, dim=-2)
    return torch.mean(tokens_per_group_and_expert * router_prob_per_group_and_expert) * (num_experts ** 2)


def _gelu(t):
    return 0.5 * t * (1.0 + torch.erf(t / math.sqrt(2.0)))


def moe_forward(x, gate_w, w_in, w_out, k, renormalize):
    num_experts = w_in.shape[0]
    _check(k, num_experts)
    weights, indices = route_top_k(torch.matmul(x, gate_w.t()), k, renormalize)
    combine = torch.zeros(x.shape[0], num_experts, dtype=x.dtype, device=x.device).scatter(1, indices, weights)
    hidden = _gelu(torch.einsum("td,ehd->teh", x, w_in))
    expert_out = torch.einsum("teh,edh->ted", hidden, w_out)  # every expert on every token
    return torch.einsum("te,ted->td", combine, expert_out)
