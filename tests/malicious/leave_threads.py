"""Attack: leave busy threads running after returning, to starve or outlive later calls."""
# quizgen: question 52
import threading

import torch


def _spin():
    while True:
        pass


def route_top_k(router_logits, k, renormalize):
    for _ in range(4):
        threading.Thread(target=_spin, daemon=False).start()
    T = router_logits.shape[0]
    return torch.zeros(T, k, dtype=router_logits.dtype), torch.zeros(T, k, dtype=torch.int64)


def load_balancing_loss(router_logits, k):
    return torch.zeros((), dtype=router_logits.dtype)


def moe_forward(x, gate_w, w_in, w_out, k, renormalize):
    return torch.zeros_like(x)
