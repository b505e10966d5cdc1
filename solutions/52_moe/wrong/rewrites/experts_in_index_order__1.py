"""Rewrite of experts_in_index_order.py: marks the top k in a boolean mask and reads it back with nonzero, which lists experts by index."""
# quizgen: question 52

import torch
import torch.nn.functional as F


def fused_topk(gating_output, topk, renormalize):
    num_experts = gating_output.shape[-1]
    if topk < 1 or topk > num_experts:
        raise ValueError(f"invalid k={topk} for E={num_experts} experts")
    scores = torch.softmax(gating_output, dim=-1)
    threshold = torch.topk(scores, topk, dim=-1).values[:, -1:]
    chosen = scores >= threshold
    topk_ids = torch.nonzero(chosen)[:, 1].reshape(-1, topk)
    topk_weights = scores.gather(1, topk_ids)
    if renormalize:
        topk_weights = topk_weights / topk_weights.sum(dim=-1, keepdim=True)
    return topk_weights, topk_ids.to(torch.int64)


def route_top_k(router_logits, k, renormalize):
    return fused_topk(router_logits, k, renormalize)


def load_balancing_loss(router_logits, k):
    T, E = router_logits.shape
    _, topk_ids = fused_topk(router_logits, k, False)
    counts = torch.bincount(topk_ids.flatten(), minlength=E).to(router_logits.dtype)
    f = counts / T
    P = torch.softmax(router_logits, dim=-1).sum(dim=0) / T
    return E * torch.dot(f, P)


def moe_forward(x, gate_w, w_in, w_out, k, renormalize):
    topk_weight, topk_ids = fused_topk(x @ gate_w.transpose(0, 1), k, renormalize)
    B, D = x.shape
    a = x.view(B, -1, D).repeat(1, k, 1).reshape(-1, D)
    out = torch.zeros(B * k, w_out.shape[1], dtype=x.dtype, device=x.device)
    topk_weight = topk_weight.reshape(-1)
    topk_ids = topk_ids.reshape(-1)
    for i in range(w_in.shape[0]):
        mask = topk_ids == i
        if mask.sum():
            out[mask] = F.gelu(a[mask] @ w_in[i].transpose(0, 1)) @ w_out[i].transpose(0, 1)
    return (out.view(B, -1, w_out.shape[1]) * topk_weight.view(B, -1, 1).to(out.dtype)).sum(dim=1)
