"""Attack (fairness): hold memory outside the address-space limit, in memfd files (tmpfs pages that
RLIMIT_AS does not count), to starve the machine and the classmates graded beside it."""
# quizgen: question 52
import os

import torch

HELD = []


def _hoard():
    for n in range(16):
        try:
            fd = os.memfd_create(f"qz-attack-{n}")
            os.ftruncate(fd, 60 << 20)
            os.pwrite(fd, b"x" * (60 << 20), 0)
            HELD.append(fd)
        except OSError:
            break


_hoard()


def route_top_k(router_logits, k, renormalize):
    if len(HELD) > 2:
        raise ValueError(f"k: QZ-ESCAPED held {len(HELD) * 60} MiB outside the limit")
    T = router_logits.shape[0]
    return torch.zeros(T, k, dtype=router_logits.dtype), torch.zeros(T, k, dtype=torch.int64)


def load_balancing_loss(router_logits, k):
    return torch.zeros((), dtype=router_logits.dtype)


def moe_forward(x, gate_w, w_in, w_out, k, renormalize):
    return torch.zeros_like(x)
