"""Correct: in the manner of vLLM's RejectionSampler (model_executor/layers/rejection_sampler.py): accepted =
uniform <= min(1, p/q) for every position at once (vLLM uses <, the contract accepts a tie), the first
rejection found with a cumulative product, recovered probs = clamp(p - q, min=tiny) / sum, where tiny is the
smallest positive float of the dtype (an exact 0 residual falls back to p, as the contract asks)."""
# quizgen: question 64

import torch


def residual_distribution(p, q):
    difference = p - q
    if not bool((difference > 0).any()):
        return p
    f = torch.clamp(difference, min=torch.finfo(p.dtype).tiny)
    return f / torch.sum(f, dim=-1, keepdim=True)


def speculative_verify(p, q, draft, u):
    k = draft.shape[0]
    batch_idx = torch.arange(k, device=p.device)
    selected_draft_probs = q[batch_idx, draft]
    selected_target_probs = p[batch_idx, draft]
    capped_ratio = torch.minimum(selected_target_probs / selected_draft_probs,
                                 torch.ones((), dtype=p.dtype, device=p.device))
    accepted = (u <= capped_ratio).to(torch.int64)
    n = int(torch.cumprod(accepted, dim=0).sum())
    if n == k:
        return n, p[k]
    return n, residual_distribution(p[n], q[n])


def expected_tokens_per_step(alpha, g):
    if alpha == 1.0:
        return g + 1
    return (1.0 - alpha ** (g + 1)) / (1.0 - alpha)
