"""Attack (rules decided in the worker): wrap the fused attention kernel in a custom op (public API),
so that the tracer sees one opaque outer op instead of scaled_dot_product_attention."""
# quizgen: question 58
import math

import torch
import torch.nn.functional as F

def _checked(q, k, v, block_q, block_k, causal):
    if block_q < 1 or block_k < 1:
        raise ValueError(f"block_q and block_k must be >= 1, got block_q={block_q}, block_k={block_k}")
    if k.shape[0] != q.shape[0] or k.shape[1] != q.shape[1] or k.shape[3] != q.shape[3] or \
            v.shape[0] != q.shape[0] or v.shape[1] != q.shape[1] or v.shape[3] != q.shape[3]:
        raise ValueError("q, k and v must share B, H and D")
    if causal and q.shape[2] > k.shape[2]:
        raise ValueError("causal needs Tq <= Tk")


def _dense(q, k, v, causal):
    """Exact attention through the whole [Tq, Tk] score matrix: right values, wrong memory."""
    Tq, Tk = q.shape[2], k.shape[2]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if causal:
        keep = torch.ones(Tq, Tk, dtype=torch.bool, device=q.device).tril(Tk - Tq)
        scores = scores.masked_fill(~keep, float("-inf"))
    return torch.softmax(scores, -1) @ v, torch.logsumexp(scores, -1)


@torch.library.custom_op("qzattack::attention", mutates_args=())
def _opaque(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool) -> tuple[torch.Tensor, torch.Tensor]:
    out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    return out, torch.logsumexp(scores, -1)


def flash_attention_forward(q, k, v, block_q=64, block_k=64, causal=False):
    _checked(q, k, v, block_q, block_k, causal)
    if causal and q.shape[2] != k.shape[2]:
        return _dense(q, k, v, causal)
    out, lse = _opaque(q, k, v, causal)
    return out, lse
