"""Validate the reference of question 64 (speculative decoding) against independent peers.

Peers: a port of HF transformers' _speculative_sampling (generation/utils.py@000034a: accept while
r_i <= p_i / q_i, n_matches from a cumsum of rejections, p' = clamp(p - q, min=0) normalized, or p[n]
when all were accepted), fed the uniforms HF would draw; and exact enumeration: over every draft
sequence and every accept/reject pattern, the law of each emitted token is the target's, and the mean
number of tokens per step is (1 - beta**(g + 1)) / (1 - beta) with beta = sum min(p, q).
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(64)).load_reference()


def _hf_speculative_sampling(p, q, draft, r):
    """HF's algorithm on probabilities of one sequence: returns (n_matches, p_prime)."""
    gamma = q.shape[0]
    q_i = q[torch.arange(gamma), draft]
    p_i = p[torch.arange(gamma), draft]
    is_accepted = r <= p_i / q_i
    n_matches = int(((~is_accepted).cumsum(dim=-1) < 1).sum())
    p_n_plus_1 = p[n_matches]
    if n_matches < gamma:
        p_prime = torch.clamp(p_n_plus_1 - q[n_matches], min=0)
        p_prime = p_prime / p_prime.sum()
    else:
        p_prime = p_n_plus_1
    return n_matches, p_prime


def test_speculative_verify_matches_hf_speculative_sampling_for_200_seeds(ref):
    for seed in range(200):
        gen = torch.Generator().manual_seed(seed)
        gamma, V = 1 + seed % 5, 3 + seed % 11
        p = torch.softmax(2 * torch.randn(gamma + 1, V, generator=gen, dtype=torch.float64), -1)
        q = torch.softmax(2 * torch.randn(gamma, V, generator=gen, dtype=torch.float64), -1)
        u_draft = torch.rand(gamma, 1, generator=gen, dtype=torch.float64)
        draft = torch.searchsorted(q.cumsum(-1), u_draft).flatten().clamp(max=V - 1)  # draft_i ~ q_i
        torch.manual_seed(seed)
        r = torch.rand(gamma, dtype=torch.float64)  # what HF's torch.rand_like(ratio) draws after this seed
        n, dist = ref.speculative_verify(p, q, draft, r)
        n_hf, p_prime = _hf_speculative_sampling(p, q, draft, r)
        assert type(n) is int and n == n_hf, seed
        torch.testing.assert_close(dist, p_prime, rtol=1e-12, atol=1e-12)


def _step_law(ref, p, q):
    """Exact law of one step: {(emitted tokens...): probability}, enumerating drafts and accept patterns."""
    g, V = q.shape
    law: dict[tuple, float] = {}
    for draft in itertools.product(range(V), repeat=g):
        weight = math.prod(float(q[i, x]) for i, x in enumerate(draft))
        accept = [min(1.0, float(p[i, x] / q[i, x])) for i, x in enumerate(draft)]
        # pattern: accept the first n drafts, then reject draft n (n < g), or accept all (n = g)
        for n in range(g + 1):
            chance = math.prod(accept[:n]) * ((1 - accept[n]) if n < g else 1.0)
            if chance == 0:
                continue
            u = torch.zeros(g, dtype=p.dtype)
            if n < g:
                u[n] = (accept[n] + 1) / 2  # above the ratio: rejected
            got_n, dist = ref.speculative_verify(p, q, torch.tensor(draft), u)
            assert got_n == n
            for y in range(V):
                key = tuple(draft[:n]) + (y,)
                law[key] = law.get(key, 0.0) + weight * chance * float(dist[y])
    return law


@pytest.mark.parametrize("g,V,seed", [(1, 4, 0), (2, 3, 1), (3, 3, 2), (2, 5, 3)])
def test_speculative_verify_is_lossless_by_exact_enumeration(ref, g, V, seed):
    gen = torch.Generator().manual_seed(seed)
    p = torch.softmax(torch.randn(g + 1, V, generator=gen, dtype=torch.float64), -1)
    q = torch.softmax(torch.randn(g, V, generator=gen, dtype=torch.float64), -1)
    law = _step_law(ref, p, q)
    assert math.isclose(sum(law.values()), 1.0, rel_tol=1e-12)
    beta = torch.minimum(p[:g], q).sum(-1)
    for j in range(g + 1):
        # P(the step emits a token at position j, and it is y) = prod_{i<j} beta_i * p[j](y): each emitted
        # token follows the target, whatever happened before it.
        marginal = torch.zeros(V, dtype=torch.float64)
        for tokens, chance in law.items():
            if len(tokens) > j:
                marginal[tokens[j]] += chance
        torch.testing.assert_close(marginal, torch.prod(beta[:j]) * p[j], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("g", [1, 2, 3])
def test_expected_tokens_per_step_is_the_mean_step_length_of_speculative_verify(ref, g):
    gen = torch.Generator().manual_seed(10 + g)
    V = 3
    p_row = torch.softmax(torch.randn(V, generator=gen, dtype=torch.float64), -1)
    q_row = torch.softmax(torch.randn(V, generator=gen, dtype=torch.float64), -1)
    p, q = p_row.expand(g + 1, V).clone(), q_row.expand(g, V).clone()
    law = _step_law(ref, p, q)
    mean_tokens = sum(len(tokens) * chance for tokens, chance in law.items())
    alpha = float(torch.minimum(p_row, q_row).sum())
    assert math.isclose(ref.expected_tokens_per_step(alpha, g), mean_tokens, rel_tol=1e-10)


def test_expected_tokens_per_step_edge_values(ref):
    assert ref.expected_tokens_per_step(1.0, 4) == 5
    assert ref.expected_tokens_per_step(0.0, 4) == 1
    assert math.isclose(ref.expected_tokens_per_step(0.8, 4), 1 + 0.8 + 0.64 + 0.512 + 0.4096, rel_tol=1e-12)


def test_residual_distribution_edge_cases(ref):
    p = torch.tensor([0.45, 0.15, 0.4], dtype=torch.float64)
    q = torch.tensor([0.2, 0.6, 0.2], dtype=torch.float64)
    torch.testing.assert_close(ref.residual_distribution(p, q), torch.tensor([5 / 9, 0, 4 / 9], dtype=torch.float64))
    assert torch.equal(ref.residual_distribution(p, p.clone()), p)
    r = ref.residual_distribution(p.float(), q.float())
    assert r.dtype == torch.float32 and not torch.isnan(r).any()


def test_residual_of_nearly_equal_float64_distributions_matches_exact_rationals(ref):
    # q agrees with p to ~1e-6: max(0, p - q) is a difference of nearly equal floats. Exact rational arithmetic
    # on the same float64 inputs is the peer; float32 rounding of p and q loses tens of percent.
    from fractions import Fraction

    g = torch.Generator().manual_seed(5)
    p = torch.softmax(torch.randn(12, generator=g, dtype=torch.float64), -1)
    q = p * (1 + 1e-6 * torch.randn(12, generator=g, dtype=torch.float64))
    q = q / q.sum()
    diffs = [max(Fraction(0), Fraction(a) - Fraction(b)) for a, b in zip(p.tolist(), q.tolist())]
    exact = torch.tensor([float(d / sum(diffs)) for d in diffs], dtype=torch.float64)
    torch.testing.assert_close(ref.residual_distribution(p, q), exact, rtol=1e-12, atol=1e-15)
    lossy = ref.residual_distribution(p.float(), q.float()).double()
    assert float((lossy - exact).abs().max()) > 1e-3
