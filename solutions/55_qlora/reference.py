"""Reference kernels for question 55: NF4 block quantization (QLoRA) and 4-bit packing.

Conventions follow the contract in `quiz stub 55`, which follows bitsandbytes'
default backend (bitsandbytes/backends/default/ops.py): the weight is flattened row-major and cut
into blocks of `blocksize`; each block is divided by its absmax (max |w|) in float32 and every value
goes to the nearest NF4 level, found with torch.bucketize on the float32 midpoints between levels,
so a value exactly on a midpoint takes the LOWER level. An all-zero block keeps absmax 0 and code 7
(the level 0.0). Packing puts element 2i in the high nibble and 2i+1 in the low one.
"""

from __future__ import annotations

import torch
from torch import Tensor

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
       -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
       0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
       0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]

ZERO_CODE = 7  # NF4[7] == 0.0


def _levels(device) -> Tensor:
    return torch.tensor(NF4, dtype=torch.float32, device=device)


def _check_blocks(numel: int, blocksize: int, what: str) -> None:
    if blocksize < 1 or numel % blocksize != 0:
        raise ValueError(f"blocksize={blocksize} must divide the number of elements of {what} ({numel})")


def nf4_quantize(w: Tensor, blocksize: int = 64) -> tuple[Tensor, Tensor]:
    _check_blocks(w.numel(), blocksize, "w")
    blocks = w.to(torch.float32).reshape(-1, blocksize)  # row-major flattening, float32 first
    absmax = blocks.abs().amax(dim=1)
    safe = torch.where(absmax > 0, absmax, torch.ones_like(absmax))
    scaled = blocks / safe[:, None]  # an all-zero block stays 0 and maps to code 7
    levels = _levels(w.device)
    midpoints = (levels[:-1] + levels[1:]) / 2
    codes = torch.bucketize(scaled, midpoints)  # number of midpoints strictly below the value
    return codes.reshape(-1).to(torch.uint8), absmax


def nf4_dequantize(codes: Tensor, absmax: Tensor, shape: tuple[int, ...], blocksize: int = 64) -> Tensor:
    _check_blocks(codes.numel(), blocksize, "codes")
    levels = _levels(codes.device)
    values = levels[codes.reshape(-1, blocksize).long()] * absmax.to(torch.float32)[:, None]
    return values.reshape(shape)


def pack_nibbles(codes: Tensor) -> Tensor:
    if codes.numel() % 2 != 0:
        raise ValueError(f"codes must have an even number of elements, got {codes.numel()}")
    flat = codes.reshape(-1)
    return (flat[0::2] << 4) | flat[1::2]


def unpack_nibbles(packed: Tensor) -> Tensor:
    flat = packed.reshape(-1)
    return torch.stack([flat >> 4, flat & 15], dim=1).reshape(-1)
