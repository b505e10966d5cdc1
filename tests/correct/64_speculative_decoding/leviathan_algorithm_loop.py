"""Correct: Algorithm 1 of Leviathan, Kalman and Matias (2023), "Fast Inference from Transformers via Speculative
Decoding", written as a plain loop over the guesses: keep guess i while r_i <= p_i(x)/q_i(x), on the first
rejection sample from norm(max(0, p_n - q_n)), else from p_{gamma+1}. The residual is built entry by entry in
Python floats (double precision) and normalized with math.fsum; expected tokens is eq. (1)
summed term by term."""
# quizgen: question 64

import math

import torch


def residual_distribution(p, q):
    values = [max(0.0, a - b) for a, b in zip(p.tolist(), q.tolist())]
    mass = math.fsum(values)
    if mass == 0.0:
        return p
    return torch.tensor([v / mass for v in values], dtype=p.dtype, device=p.device)


def speculative_verify(p, q, draft, u):
    gamma = q.shape[0]
    tokens, uniforms = draft.tolist(), u.tolist()
    for i in range(gamma):
        x = tokens[i]
        if uniforms[i] <= float(p[i, x]) / float(q[i, x]):
            continue
        return i, residual_distribution(p[i], q[i])
    return gamma, p[gamma]


def expected_tokens_per_step(alpha, g):
    return math.fsum(alpha ** i for i in range(g + 1))
