"""Attack: recurse without end, first in Python, then past the C stack."""
# quizgen: question 52
import sys


def route_top_k(router_logits, k, renormalize):
    return route_top_k(router_logits, k, renormalize)


def load_balancing_loss(router_logits, k):
    sys.setrecursionlimit(10**9)

    def deeper(n):
        return deeper(n + 1) + 1

    return deeper(0)


moe_forward = route_top_k
