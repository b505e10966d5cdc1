"""Rewrite of default_blocksize_128.py: the decision-tree kernel with blocksize defaulting to 128."""
# quizgen: question 55

import torch

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
       -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
       0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
       0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]


def _thresholds(device):
    levels = torch.tensor(NF4, dtype=torch.float32, device=device)
    return levels, (levels[:-1] + levels[1:]) / 2


def _tree(x, thresholds, lo, hi):
    """The code in lo..hi of every x, by the kernel's nested `if (x > threshold)` tests."""
    if lo == hi:
        return torch.full_like(x, lo, dtype=torch.uint8)
    mid = (lo + hi) // 2
    return torch.where(x > thresholds[mid], _tree(x, thresholds, mid + 1, hi), _tree(x, thresholds, lo, mid))


def nf4_quantize(w, blocksize: int = 128):
    if w.numel() % blocksize != 0:
        raise ValueError(f"blocksize={blocksize} does not divide w.numel()={w.numel()}")
    vals = w.float().flatten().unflatten(0, (-1, blocksize))
    absmax = vals.abs().amax(dim=1)
    divisor = torch.where(absmax == 0, torch.ones_like(absmax), absmax)
    _, thresholds = _thresholds(w.device)
    codes = _tree(vals / divisor.unsqueeze(1), thresholds, 0, 15)
    return codes.flatten(), absmax


def nf4_dequantize(codes, absmax, shape, blocksize: int = 128):
    if codes.numel() % blocksize != 0:
        raise ValueError(f"blocksize={blocksize} does not divide codes.numel()={codes.numel()}")
    levels, _ = _thresholds(codes.device)
    scale = absmax.float().repeat_interleave(blocksize)
    return (levels[codes.flatten().long()] * scale).reshape(tuple(shape))


def pack_nibbles(codes):
    if codes.numel() % 2 == 1:
        raise ValueError("pack_nibbles: codes has an odd number of elements (%d)" % codes.numel())
    q = codes.flatten()
    qvals = q[0::2] << 4
    qvals |= q[1::2]
    return qvals


def unpack_nibbles(packed):
    p = packed.flatten()
    return torch.stack((p >> 4, p & 0x0F), dim=-1).flatten()
