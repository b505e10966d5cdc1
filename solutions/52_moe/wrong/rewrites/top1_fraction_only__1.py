"""Rewrite of top1_fraction_only.py: f from a bincount of each token's argmax only, whatever k is."""
# quizgen: question 52

import torch
import torch.nn.functional as F


def fused_topk(gating_output, topk, renormalize):
    num_experts = gating_output.shape[-1]
    if topk < 1 or topk > num_experts:
        raise ValueError(f"invalid k={topk} for E={num_experts} experts")
    scores = torch.softmax(gating_output, dim=-1)
    topk_weights, topk_ids = torch.topk(scores, topk, dim=-1)
    if renormalize:
        topk_weights = topk_weights / topk_weights.sum(dim=-1, keepdim=True)
    return topk_weights, topk_ids.to(torch.int64)


def route_top_k(router_logits, k, renormalize):
    return fused_topk(router_logits, k, renormalize)


def load_balancing_loss(router_logits, k):
    T, E = router_logits.shape
    fused_topk(router_logits, k, False)
    first = torch.argmax(router_logits, dim=-1)
    f = torch.bincount(first, minlength=E).to(router_logits.dtype) / T
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
