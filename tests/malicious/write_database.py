"""Attack: overwrite the progress database (path planted by the test) and plant a symlink to it."""
# quizgen: question 52
import os

import torch

for _attempt in (lambda: open("__DB_PATH__", "r+b").write(b"garbage" * 100),
                 lambda: open("__DB_PATH__", "wb").write(b""),
                 lambda: os.symlink("__DB_PATH__", "results.jsonl"),
                 lambda: os.remove("__DB_PATH__")):
    try:
        _attempt()
    except Exception:
        pass


def route_top_k(router_logits, k, renormalize):
    return torch.topk(torch.softmax(router_logits, -1), k)


def load_balancing_loss(router_logits, k):
    return torch.zeros(())


def moe_forward(x, gate_w, w_in, w_out, k, renormalize):
    return x
