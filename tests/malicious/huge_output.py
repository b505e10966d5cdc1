"""Attack: flood stdout and return a tensor larger than the result cap."""
# quizgen: question 52
import sys

import torch


def route_top_k(router_logits, k, renormalize):
    for _ in range(200_000):
        print("x" * 1000)
        sys.stderr.write("y" * 1000)
    return torch.zeros(1)


def load_balancing_loss(router_logits, k):
    return torch.zeros(300_000_000, dtype=torch.uint8)


moe_forward = route_top_k
