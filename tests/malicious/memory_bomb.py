"""Attack: allocate far more memory than the machine has, in torch and in Python."""
# quizgen: question 52
import torch


def route_top_k(router_logits, k, renormalize):
    return torch.empty(1 << 40, dtype=torch.uint8).fill_(1)


def load_balancing_loss(router_logits, k):
    return bytearray(1 << 40)


def moe_forward(x, gate_w, w_in, w_out, k, renormalize):
    hog = []
    while True:
        hog.append(torch.ones(1 << 27))
