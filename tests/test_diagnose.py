"""Naming the mistake: a known mistake is named only when it reproduces the submission's answers far
more closely than the reference does, and never when the answers are the reference's."""

import math

import torch

from quizgen.grading.diagnose import Outcome, distance, explains, outcome_distance


def test_distance_is_relative_to_the_scale_and_infinite_across_kinds():
    a = torch.tensor([1000.0, 1.0], dtype=torch.float64)
    assert distance(a, a.clone()) == 0.0
    assert math.isclose(distance(a + 1e-3, a), 1e-6)
    assert distance(a, a.float()) == math.inf  # another dtype is another answer
    assert distance(torch.tensor([1, 2]), torch.tensor([1, 3])) == math.inf
    assert distance((a, 3), (a, 3)) == 0.0 and distance(2, 3) > 0
    assert outcome_distance(Outcome(raised="ValueError"), Outcome(raised="ValueError")) == 0.0
    assert outcome_distance(Outcome(raised="ValueError"), Outcome(value=1)) == math.inf


def test_a_mistake_is_named_only_when_it_is_far_closer_than_the_reference():
    assert explains([0.0, 0.0], [0.3, 0.0])           # reproduces the wrong answer exactly
    assert explains([1e-9], [2e-7])                     # float32 arithmetic: closer than the reference by far
    assert not explains([1e-7], [2e-7])                 # about as far as the reference: not this mistake
    assert not explains([0.0, 0.5], [0.3, 0.0])         # misses a call the submission got right
    assert not explains([0.0], [0.0])                   # the answers are the reference's: nothing to name
