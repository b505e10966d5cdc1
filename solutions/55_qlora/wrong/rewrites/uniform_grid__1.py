"""Rewrite of uniform_grid.py: a 16-level grid from torch.linspace(-1, 1, 16) searched with searchsorted on its midpoints."""
# quizgen: question 55

import torch

NF4 = torch.linspace(-1.0, 1.0, 16).tolist()


def nf4_quantize(w, blocksize=64):
    numel = w.numel()
    if numel % blocksize:
        raise ValueError("w.numel() = %d is not a multiple of blocksize = %d" % (numel, blocksize))
    flat = torch.flatten(w).to(dtype=torch.float32)
    levels = torch.tensor(NF4, dtype=torch.float32, device=w.device)
    midpoints = (levels[1:] + levels[:-1]) / 2
    codes, absmaxes = [], []
    for start in range(0, numel, blocksize):
        block = flat[start:start + blocksize]
        absmax = block.abs().max()
        normalized = block / absmax if float(absmax) > 0 else torch.zeros_like(block)
        codes.append(torch.searchsorted(midpoints, normalized.contiguous()))
        absmaxes.append(absmax)
    return torch.cat(codes).to(torch.uint8), torch.stack(absmaxes)


def nf4_dequantize(codes, absmax, shape, blocksize=64):
    if codes.numel() % blocksize:
        raise ValueError("codes.numel() = %d is not a multiple of blocksize = %d" % (codes.numel(), blocksize))
    levels = torch.tensor(NF4, dtype=torch.float32, device=codes.device)
    flat = codes.reshape(-1).long()
    blocks = [levels[flat[i * blocksize:(i + 1) * blocksize]] * absmax[i].float() for i in range(flat.numel() // blocksize)]
    return torch.cat(blocks).reshape(*shape) if blocks else torch.zeros(tuple(shape), dtype=torch.float32, device=codes.device)


def pack_nibbles(codes):
    n = codes.numel()
    if n % 2:
        raise ValueError(f"codes: n = {n} is odd, cannot pack two codes per byte")
    c = codes.reshape(-1).to(torch.int16)
    return (16 * c[0::2] + c[1::2]).to(torch.uint8)


def unpack_nibbles(packed):
    p = packed.reshape(-1).to(torch.int16)
    high = torch.div(p, 16, rounding_mode="floor")
    low = torch.remainder(p, 16)
    return torch.stack([high, low], dim=1).reshape(-1).to(torch.uint8)
