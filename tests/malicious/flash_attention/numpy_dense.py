"""Attack (rules decided in the worker): build the whole [T, T] score matrix in numpy, reached through
__import__, where the dispatch-level tracer sees no tensor at all."""
# quizgen: question 58
import math

import torch

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


def flash_attention_forward(q, k, v, block_q=64, block_k=64, causal=False):
    _checked(q, k, v, block_q, block_k, causal)
    np = __import__("numpy")
    Q, K, V = (t.detach().cpu().numpy() for t in (q, k, v))
    scores = Q @ K.swapaxes(-1, -2) / math.sqrt(Q.shape[-1])
    if causal:
        Tq, Tk = Q.shape[2], K.shape[2]
        scores = np.where(np.tri(Tq, Tk, Tk - Tq, dtype=bool), scores, -np.inf)
    m = scores.max(-1, keepdims=True)
    p = np.exp(scores - m)
    s = p.sum(-1, keepdims=True)
    out = (p / s) @ V
    lse = (m + np.log(s))[..., 0]
    return torch.from_numpy(out).to(q.dtype), torch.from_numpy(lse).to(q.dtype)
