"""Correct: adapted from Hugging Face transformers' _speculative_sampling (generation/utils.py): ratio p_i / q_i at
the candidate tokens, is_accepted = r_i <= ratio, n_matches = ((~is_accepted).cumsum(-1) < 1).sum(), then
p' = clamp(p[n] - q[n], min=0) normalized in place (p_prime.div_(p_prime.sum())) or p[n] after a full match.
The uniforms r_i are the given u (HF draws torch.rand_like); the zero-mass fallback to p is the contract's."""
# quizgen: question 64

import torch


def residual_distribution(p, q):
    p_prime = torch.clamp(p - q, min=0)
    total = p_prime.sum()
    if total.item() == 0:
        return p.clone()
    p_prime.div_(total)
    return p_prime


def speculative_verify(p, q, draft, u):
    candidate_length = q.shape[0]
    idx = torch.arange(candidate_length, device=p.device)
    q_i = q[idx, draft]
    p_i = p[idx, draft]
    probability_ratio = p_i / q_i
    is_accepted = u <= probability_ratio
    n_matches = int(((~is_accepted).cumsum(dim=-1) < 1).sum().item())
    p_n_plus_1 = p[n_matches]
    if n_matches < candidate_length:
        return n_matches, residual_distribution(p_n_plus_1, q[n_matches])
    return n_matches, p_n_plus_1


def expected_tokens_per_step(alpha, g):
    if alpha == 1:
        return float(g + 1)
    return (1 - alpha ** (g + 1)) / (1 - alpha)
