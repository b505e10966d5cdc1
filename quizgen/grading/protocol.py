"""What crosses between the trusted grader and the worker: size-capped frames of a JSON header and a blob.

Values (arguments and results) travel as ``torch.save`` bytes and are read back with
``weights_only=True`` only, never retried without it; after loading, every leaf is checked to be a
plain tensor or a plain number, so nothing the worker sends can run code in the trusted process.
"""

from __future__ import annotations

import io
import json
import socket
import struct

_HEADER = struct.Struct("!IQ")  # JSON length, blob length
MAX_JSON_BYTES = 1 << 20
DEFAULT_MAX_BLOB_BYTES = 512 << 20


class ProtocolError(Exception):
    """The other side sent something malformed, too large, or hung up."""


def send_frame(sock: socket.socket, header: dict, blob: bytes = b"") -> None:
    data = json.dumps(header).encode()
    sock.sendall(_HEADER.pack(len(data), len(blob)) + data + blob)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks, remaining = [], n
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise ProtocolError("the worker hung up")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, max_blob: int = DEFAULT_MAX_BLOB_BYTES) -> tuple[dict, bytes]:
    json_len, blob_len = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
    if json_len > MAX_JSON_BYTES:
        raise ProtocolError(f"header of {json_len} bytes exceeds the {MAX_JSON_BYTES}-byte cap")
    if blob_len > max_blob:
        raise ProtocolError(f"result of {blob_len / 2**20:.1f} MiB exceeds the {max_blob / 2**20:.0f} MiB cap")
    try:
        header = json.loads(_recv_exactly(sock, json_len))
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"malformed header: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError("malformed header: not an object")
    return header, _recv_exactly(sock, blob_len)


def encode_value(value) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def decode_value(blob: bytes, max_tensor_bytes: int = DEFAULT_MAX_BLOB_BYTES):
    """Load a value with ``weights_only=True`` and check that it holds only plain tensors and numbers."""
    import torch

    try:
        value = torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any failure means the bytes are not an allowed value
        raise ProtocolError(f"not a plain value (tensors, numbers, tuples, lists): {type(exc).__name__}: {str(exc)[:200]}") from None
    return _check_plain(value, max_tensor_bytes)


_PLAIN_SCALARS = (bool, int, float, str, type(None))


def _check_plain(value, max_tensor_bytes: int, depth: int = 0):
    import torch

    if depth > 20:
        raise ProtocolError("value nested more than 20 levels deep")
    if type(value) in _PLAIN_SCALARS:
        return value
    if isinstance(value, torch.Tensor):
        if type(value) is not torch.Tensor:
            value = value.data  # nn.Parameter loads under weights_only; keep only its data
            if type(value) is not torch.Tensor:
                raise ProtocolError(f"a tensor subclass ({type(value).__name__}) is not a plain tensor")
        size = value.untyped_storage().nbytes()
        if size > max_tensor_bytes:
            raise ProtocolError(f"a tensor of {size / 2**20:.1f} MiB exceeds the cap")
        return value
    if type(value) in (list, tuple):
        return type(value)(_check_plain(v, max_tensor_bytes, depth + 1) for v in value)
    if type(value) is dict and all(type(k) is str for k in value):
        return {k: _check_plain(v, max_tensor_bytes, depth + 1) for k, v in value.items()}
    raise ProtocolError(f"{type(value).__name__} is not a plain value")
