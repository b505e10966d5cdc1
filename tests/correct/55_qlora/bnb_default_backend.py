"""Correct: adapted from bitsandbytes' default (pure PyTorch) backend, backends/default/ops.py: quantize_4bit and _dequantize_4bit_impl.

As bitsandbytes does: flatten, cut into [n // blocksize, blocksize], absmax = abs().max(dim=-1),
scale by the reciprocal (A * (1 / absmax)) clamped to [-1, 1], pack with quantized[::2] << 4 |
quantized[1::2], and unpack into an int32 index tensor (high nibble first) to look up the code.
Changes for the contract: the nearest level is found with bucketize on the float32 midpoints (the
backend's argmin breaks exact ties by float rounding), an all-zero block scales by 0 instead of
1 / 0, float64 input is converted to float32 first, and packing is a separate function.
"""
# quizgen: question 55

import torch

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
       -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
       0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
       0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]


def _code(device):
    return torch.tensor(NF4, dtype=torch.float32, device=device)


def _check(n, blocksize, name):
    if n % blocksize:
        raise ValueError(f"{name} has {n} elements, which blocksize={blocksize} does not divide")


def nf4_quantize(w, blocksize=64):
    n = w.numel()
    _check(n, blocksize, "w")
    A = w.to(torch.float32)
    A_flattened = A.reshape(n)
    A_full_blocks = A_flattened.reshape(n // blocksize, blocksize)
    absmax = torch.abs(A_full_blocks).max(dim=-1)[0]
    inv = torch.where(absmax > 0, 1 / absmax, torch.zeros_like(absmax))
    scaled = torch.clamp(A_full_blocks * inv.view(-1, 1), -1, 1).reshape(-1)
    code = _code(w.device)
    quantized = torch.bucketize(scaled, (code[:-1] + code[1:]) / 2).to(torch.uint8)
    return quantized, absmax.float()


def nf4_dequantize(codes, absmax, shape, blocksize=64):
    n = codes.numel()
    _check(n, blocksize, "codes")
    code = _code(codes.device)
    out_dq = code[codes.reshape(-1).int()]
    out = out_dq.view(-1, blocksize) * absmax.view(-1, 1)
    return out.reshape(shape).to(torch.float32)


def pack_nibbles(codes):
    quantized = codes.reshape(-1)
    if quantized.numel() % 2 != 0:
        raise ValueError(f"codes must hold an even number of 4-bit values, got {quantized.numel()}")
    return quantized[::2] << 4 | quantized[1::2]


def unpack_nibbles(packed):
    A = packed.reshape(-1)
    out_dq = torch.empty(A.size(0) * 2, dtype=torch.int32, device=A.device)
    out_dq[1::2] = A & 0xF
    out_dq[::2] = A >> 4
    return out_dq.to(torch.uint8)
