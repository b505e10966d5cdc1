"""Rewrite of loss_f_divided_by_k.py: HF-style mean over the [T, k, E] mask and over the k choices, so the shares sum to 1."""
# quizgen: question 52

import torch
import torch.nn.functional as F


def _validate_top_k(top_k, num_experts):
    if not 1 <= top_k <= num_experts:
        raise ValueError(f"k={top_k} must satisfy 1 <= k <= E={num_experts}")


def route_top_k(router_logits, k, renormalize):
    _validate_top_k(k, router_logits.shape[-1])
    routing_weights = F.softmax(router_logits, dim=1)
    routing_weights, selected_experts = torch.topk(routing_weights, k, dim=-1)
    if renormalize:
        routing_weights /= routing_weights.sum(dim=-1, keepdim=True)
    return routing_weights, selected_experts


def load_balancing_loss(router_logits, k):
    num_experts = router_logits.shape[-1]
    _validate_top_k(k, num_experts)
    routing_weights = torch.nn.functional.softmax(router_logits, dim=-1)
    _, selected_experts = torch.topk(routing_weights, k, dim=-1)
    expert_mask = torch.nn.functional.one_hot(selected_experts, num_experts)
    tokens_per_expert = torch.mean(expert_mask.to(routing_weights.dtype), dim=(0, 1))
    router_prob_per_expert = torch.mean(routing_weights, dim=0)
    return torch.sum(tokens_per_expert * router_prob_per_expert) * num_experts


def moe_forward(x, gate_w, w_in, w_out, k, renormalize):
    num_experts = gate_w.shape[0]
    _validate_top_k(k, num_experts)
    router_logits = F.linear(x, gate_w)
    routing_weights, selected_experts = route_top_k(router_logits, k, renormalize)
    final_hidden_states = torch.zeros_like(x, memory_format=torch.contiguous_format)
    expert_mask = torch.nn.functional.one_hot(selected_experts, num_classes=num_experts).permute(2, 1, 0)
    for expert_idx in range(num_experts):
        idx, top_x = torch.where(expert_mask[expert_idx])
        if top_x.numel() == 0:
            continue
        current_state = x[None, top_x].reshape(-1, x.shape[-1])
        hidden = F.linear(F.gelu(F.linear(current_state, w_in[expert_idx])), w_out[expert_idx])
        current_hidden_states = hidden * routing_weights[top_x, idx, None]
        final_hidden_states.index_add_(0, top_x, current_hidden_states.to(x.dtype))
    return final_hidden_states
