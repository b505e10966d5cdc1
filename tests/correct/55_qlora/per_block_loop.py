"""Correct: a plain per-block loop, as the QLoRA paper describes block-wise quantization (Dettmers et al. 2023, section 2: "chunk the input tensor into blocks that are independently quantized, each with their own quantization constant"), with torch.searchsorted for the nearest level.

searchsorted(midpoints, x) (right=False) is the number of midpoints strictly below x, the contract's
code. Packing is integer arithmetic (16 * high + low); unpacking uses floor division and remainder.
"""
# quizgen: question 55

import torch

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
       -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
       0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
       0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]


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
