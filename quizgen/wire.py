"""What crosses between the trusted grader and the sandboxed worker, and the limits both sides share.

This is the only quizgen module that the untrusted side (``quizgen.sandbox``) imports. Everything
here is written for a reader on the trusted side who assumes the other end is hostile:

- A frame is a JSON header and a blob, each size-capped, read against an absolute deadline (a
  reply sent one byte a second still ends at the deadline).
- Values travel as ``torch.save`` bytes. Before ``torch.load(weights_only=True)`` the archive's
  directory is read: stored records only (no DEFLATE bombs), sizes that agree between the central
  directory and each local header, and a total under the cap. After loading, every leaf must be
  exactly a ``torch.Tensor`` (no subclass, no Parameter) of a plain dtype and layout, a plain
  number or a short string; containers are plain lists, tuples and str-keyed dicts, bounded in
  depth and count.
"""

from __future__ import annotations

import io
import json
import socket
import struct
import time
import zipfile
from dataclasses import asdict, dataclass, field, fields

# -- limits: one place ---------------------------------------------------------------------------

MAX_HEADER_BYTES = 1 << 20
MAX_VALUE_BYTES = 256 << 20  # one frame's blob (a call's inputs or one result)
MAX_LEAVES = 10_000
MAX_DEPTH = 20
MAX_ECHO_CHARS = 2000  # what a submission prints, kept per call
MAX_MESSAGE_CHARS = 500  # an exception message from the submission


@dataclass(frozen=True)
class WorkerLimits:
    """The walls' sizes for one worker. The trusted side chooses them; the sandbox applies them
    before any submission code runs."""

    call_seconds: float = 10.0  # wall clock for one call
    total_seconds: float = 120.0  # wall clock for the whole grading, worker starts included
    memory_mb: int = 4096  # address space beyond the worker's start (CPU runs only)
    tmp_mb: int = 64  # the worker's private writable folder (and its /dev/shm), in total
    open_files: int = 64
    device: str = "cpu"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> WorkerLimits:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Isolation:
    """Which walls stand around the workers; reported with every grade.

    ``mode`` is "strong" when the worker has its own user, mount, network and pid namespaces, else
    "degraded" with the ``reason``. ``walls`` names each wall that stands and ``missing`` each one
    the kernel refused, so a report can say exactly what a submission could have reached.
    """

    mode: str = "degraded"
    reason: str = ""
    walls: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.mode == "strong":
            text = f"strong ({', '.join(self.walls)})"
        else:
            text = f"degraded ({self.reason or 'unknown reason'}; walls: {', '.join(self.walls) or 'none'})"
        return text + (f"; missing: {', '.join(self.missing)}" if self.missing else "")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Isolation:
        return cls(mode=str(data.get("mode", "degraded")), reason=str(data.get("reason", "")),
                   walls=[str(w) for w in data.get("walls", [])], missing=[str(m) for m in data.get("missing", [])])


# -- frames --------------------------------------------------------------------------------------

_FRAME = struct.Struct("!IQ")  # header length, blob length


class ProtocolError(Exception):
    """The other side sent something malformed or too large, or hung up."""


class DeadlineExceeded(ProtocolError):
    """Nothing complete arrived before the deadline."""


def send_frame(sock: socket.socket, header: dict, blob: bytes = b"") -> None:
    data = json.dumps(header).encode()
    sock.sendall(_FRAME.pack(len(data), len(blob)) + data + blob)


def _recv_exactly(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeadlineExceeded("no complete reply before the deadline")
            sock.settimeout(left)
        try:
            chunk = sock.recv(min(remaining, 1 << 20))
        except TimeoutError:
            raise DeadlineExceeded("no complete reply before the deadline") from None
        if not chunk:
            raise ProtocolError("the other side hung up")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, deadline: float | None = None,
               max_blob: int = MAX_VALUE_BYTES) -> tuple[dict, bytes]:
    """One frame, complete by ``deadline`` (``time.monotonic()``; None waits forever)."""
    header_len, blob_len = _FRAME.unpack(_recv_exactly(sock, _FRAME.size, deadline))
    if header_len > MAX_HEADER_BYTES:
        raise ProtocolError(f"a header of {header_len:,} bytes is over the {MAX_HEADER_BYTES:,}-byte cap")
    if blob_len > max_blob:
        raise ProtocolError(f"a value of {blob_len / 2**20:.1f} MiB is over the {max_blob / 2**20:.0f} MiB cap")
    try:
        header = json.loads(_recv_exactly(sock, header_len, deadline))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed header: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError("malformed header: not an object")
    return header, _recv_exactly(sock, blob_len, deadline)


# -- values --------------------------------------------------------------------------------------

def encode_value(value) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_LOCAL_MAGIC = 0x04034B50


def check_archive(blob: bytes, max_bytes: int = MAX_VALUE_BYTES) -> None:
    """Refuse an archive that would inflate, lie about its sizes, or hold too much, before torch reads it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ProtocolError(f"not a value archive: {exc}") from None
    if len(entries) > MAX_LEAVES + 16:
        raise ProtocolError(f"a value archive of {len(entries)} records is over the cap")
    total = 0
    for info in entries:
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise ProtocolError(f"record {info.filename!r} is compressed; only stored records are accepted")
        offset = info.header_offset
        if offset < 0 or offset + _LOCAL_HEADER.size > len(blob):
            raise ProtocolError(f"record {info.filename!r} points outside the archive")
        magic, _, _, method, _, _, _, csize, usize, _, _ = _LOCAL_HEADER.unpack_from(blob, offset)
        if magic != _LOCAL_MAGIC or method != zipfile.ZIP_STORED:
            raise ProtocolError(f"record {info.filename!r}: its local header disagrees with the directory")
        if (csize, usize) != (0, 0) and (csize, usize) != (info.compress_size, info.file_size):
            raise ProtocolError(f"record {info.filename!r}: its local header gives other sizes")
        total += info.file_size
        if total > max_bytes:
            raise ProtocolError(f"a value of more than {max_bytes / 2**20:.0f} MiB is over the cap")


def decode_value(blob: bytes, max_bytes: int = MAX_VALUE_BYTES):
    """Load a value sent by the other side; only plain tensors, numbers and containers come out."""
    import torch

    check_archive(blob, max_bytes)
    try:
        value = torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any failure means the bytes are not an allowed value
        raise ProtocolError(f"not a plain value (tensors, numbers, tuples, lists): {type(exc).__name__}: "
                            f"{str(exc)[:200]}") from None
    counter = [0]
    return _check_plain(value, max_bytes, 0, counter)


_PLAIN_NUMBERS = (bool, int, float, type(None))
MAX_STRING_CHARS = 1000  # strings name things in a request (a layer's kind); nothing more


def _plain_dtypes():
    import torch

    return {torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128,
            torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool}


def _check_plain(value, max_bytes: int, depth: int, counter: list[int]):
    import torch

    counter[0] += 1
    if counter[0] > MAX_LEAVES:
        raise ProtocolError(f"a value of more than {MAX_LEAVES} parts is over the cap")
    if depth > MAX_DEPTH:
        raise ProtocolError(f"a value nested more than {MAX_DEPTH} levels deep")
    if type(value) in _PLAIN_NUMBERS:
        return value
    if type(value) is str:
        if len(value) > MAX_STRING_CHARS:
            raise ProtocolError(f"a string of {len(value):,} characters is over the cap")
        return value
    if type(value) is torch.Tensor:
        if value.layout != torch.strided or value.is_quantized or value.dtype not in _plain_dtypes():
            raise ProtocolError(f"a tensor of layout {value.layout} and dtype {value.dtype} is not a plain tensor")
        if value.requires_grad:
            raise ProtocolError("a tensor that requires grad is not a plain value")
        nbytes = max(value.untyped_storage().nbytes(), value.numel() * value.element_size())
        if nbytes > max_bytes:
            raise ProtocolError(f"a tensor of {nbytes / 2**20:.1f} MiB is over the cap")
        return value
    if isinstance(value, torch.Tensor):
        raise ProtocolError(f"a {type(value).__name__} is not a plain torch.Tensor")
    if type(value) in (list, tuple):
        return type(value)(_check_plain(v, max_bytes, depth + 1, counter) for v in value)
    if type(value) is dict and all(type(k) is str for k in value):
        return {k: _check_plain(v, max_bytes, depth + 1, counter) for k, v in value.items()}
    raise ProtocolError(f"a {type(value).__name__} is not a plain value")
