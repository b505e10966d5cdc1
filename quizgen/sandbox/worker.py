"""The worker: holds one submission and answers calls on one socket. Untrusted by design.

It holds only the submission's source and each call's inputs, never a reference, an expected
value or a hidden test; what it sends back is checked again by the trusted side
(``quizgen.wire.decode_value``). The submission is compiled from its source (no file, no bytecode
cache, nothing imported from a writable folder).
"""

from __future__ import annotations

import contextlib
import io
import linecache
import sys
import time
import traceback
import types
import warnings

import torch
from torch.utils._pytree import tree_flatten, tree_map

from quizgen.sandbox import harnesses
from quizgen.sandbox.tracer import CallTracer, NoTracer
from quizgen.wire import (
    MAX_ECHO_CHARS,
    MAX_MESSAGE_CHARS,
    ProtocolError,
    decode_value,
    encode_value,
    recv_frame,
    send_frame,
)

SOURCE_NAME = "submission.py"
MAX_TRACEBACK_CHARS = 3000
_forbidding_library = None  # the torch.library.Library whose kernels replace forbidden ops


class BoundedEcho(io.TextIOBase):
    """Keeps the first MAX_ECHO_CHARS of what the submission prints; the rest is counted, not stored."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._kept = 0
        self._dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = MAX_ECHO_CHARS - self._kept
        if room > 0:
            self._parts.append(text[:room])
            self._kept += min(room, len(text))
        self._dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self) -> str:
        tail = f"\n... [{self._dropped} more characters of output cut]" if self._dropped else ""
        return "".join(self._parts) + tail


def _capped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... [{len(text) - limit} more characters cut]"


def _submission_traceback(exc: BaseException) -> str:
    """The traceback's frames that lie in the submission: the user's lines, not ours."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == SOURCE_NAME]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return _capped("".join(lines), MAX_TRACEBACK_CHARS)


def forbid_ops(patterns: list[str]) -> list[str]:
    """Replace every aten kernel whose name contains one of ``patterns`` by one that raises, at every
    dispatch key it has: the op then fails however it is reached (an alias, a custom op around it,
    a popped dispatch mode). Returns the ops replaced."""
    global _forbidding_library
    if not patterns:
        return []
    library = torch.library.Library("aten", "IMPL")
    keys = ("CompositeImplicitAutograd", "CompositeExplicitAutograd", "CPU", "CUDA", "Meta")
    replaced = []
    for qualified in torch._C._dispatch_get_all_op_names():
        name = qualified.removeprefix("aten::")
        if not qualified.startswith("aten::") or not any(p in name for p in patterns):
            continue
        for key in keys:
            if torch._C._dispatch_has_kernel_for_dispatch_key(qualified, key):
                def refuse(*args, _op=qualified, **kwargs):
                    raise RuntimeError(f"{_op} is forbidden in this task (a fused attention kernel); "
                                       "compute it yourself from matmuls and softmax")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    library.impl(name, refuse, key)
                replaced.append(f"{qualified}@{key}")
    _forbidding_library = library
    return replaced


def _load_submission(source: str) -> types.ModuleType:
    code = compile(source, SOURCE_NAME, "exec", dont_inherit=True)
    linecache.cache[SOURCE_NAME] = (len(source), None, source.splitlines(True), SOURCE_NAME)
    module = types.ModuleType("submission")
    module.__file__ = SOURCE_NAME
    sys.modules["submission"] = module
    exec(code, module.__dict__)  # this process exists to run it
    return module


def _to_device(value, device: str):
    return tree_map(lambda v: v.to(device) if isinstance(v, torch.Tensor) else v, value)


def _snapshot(value):
    return tree_map(lambda v: v.detach().clone() if isinstance(v, torch.Tensor) else v, value)


def _mutated_arguments(before: tuple, after: tuple, names: list[str]) -> list[str]:
    changed = []
    for name, b, a in zip(names, before, after):
        for bl, al in zip(tree_flatten(b)[0], tree_flatten(a)[0]):
            if isinstance(bl, torch.Tensor) and (
                bl.shape != al.shape or bl.dtype != al.dtype or not torch.equal(bl, al.detach())
            ):
                changed.append(name)
                break
    return changed


_PLAIN_TENSOR_TYPES = (torch.Tensor, torch.nn.Parameter)


def _plain_result(value):
    """Results go back as plain CPU tensors and numbers. Types are checked by identity, so no method
    of a submission's own class runs here."""
    devices: set[str] = set()

    def convert(v):
        kind = type(v)
        if kind in _PLAIN_TENSOR_TYPES:
            devices.add(v.device.type)
            return torch.Tensor.detach(v).to("cpu").clone()
        if isinstance(v, torch.Tensor):
            raise TypeError(f"returned a tensor subclass ({kind.__name__}); return a plain torch.Tensor")
        if kind in (bool, int, float, type(None)):
            return v
        if kind in (list, tuple):
            return kind(convert(x) for x in v)
        if kind is dict and all(type(k) is str for k in v):
            return {k: convert(x) for k, x in v.items()}
        raise TypeError(f"returned a {kind.__name__}; return tensors, numbers, or tuples/lists of them")

    return convert(value), sorted(devices)


def _call(module, header: dict, blob: bytes, device: str) -> tuple[dict, bytes]:
    fn_name = str(header.get("function"))
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        return {"status": "raised", "type": "AttributeError",
                "message": f"the submission defines no function {fn_name}()"}, b""
    request = decode_value(blob)
    args, kwargs = _to_device(list(request["args"]), device), _to_device(dict(request["kwargs"]), device)
    harness_params = _to_device(request.get("harness_params") or {}, device)
    before = _snapshot((args, kwargs))
    names = [f"argument {i + 1}" for i in range(len(args))] + [f"argument '{k}'" for k in kwargs]
    harness = header.get("harness")
    echo = BoundedEcho()
    start = time.perf_counter()
    tracer = CallTracer() if header.get("trace", True) else NoTracer()
    try:
        with contextlib.redirect_stdout(echo), contextlib.redirect_stderr(echo):
            if harness:
                result = harnesses.run(harness, fn, args, kwargs, harness_params, tracer)
            else:
                with tracer:
                    result = fn(*args, **kwargs)
        if device == "cuda":
            torch.cuda.synchronize()
    except MemoryError:
        return {"status": "oom", "message": f"{fn_name}() ran out of memory",
                "echo": _capped(echo.getvalue(), MAX_ECHO_CHARS)}, b""
    except Exception as exc:  # noqa: BLE001 - the submission's own error, reported to the user
        return {"status": "raised", "type": type(exc).__name__, "message": _capped(str(exc), MAX_MESSAGE_CHARS),
                "traceback": _submission_traceback(exc), "echo": _capped(echo.getvalue(), MAX_ECHO_CHARS)}, b""
    seconds = time.perf_counter() - start
    mutated = _mutated_arguments(tuple(before[0]) + tuple(before[1].values()),
                                 tuple(args) + tuple(kwargs.values()), names)
    try:
        plain, devices = _plain_result(result)
        payload = encode_value(plain)
    except MemoryError:
        return {"status": "oom", "message": f"{fn_name}() ran out of memory while its result was sent"}, b""
    except (TypeError, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) and ("allocate" in str(exc) or "inline_container" in str(exc)):
            return {"status": "oom", "message": f"{fn_name}() ran out of memory while its result was sent"}, b""
        return {"status": "bad_return", "message": f"{fn_name}() {exc}"}, b""
    return {"status": "ok", "seconds": seconds, "trace": tracer.summary(), "mutated": mutated,
            "devices": devices, "echo": _capped(echo.getvalue(), MAX_ECHO_CHARS)}, payload


def serve(channel, device: str) -> None:
    """Load the submission sent first on ``channel``, then answer calls until the channel closes."""
    _, blob = recv_frame(channel)
    echo = BoundedEcho()
    try:
        with contextlib.redirect_stdout(echo), contextlib.redirect_stderr(echo):
            module = _load_submission(blob.decode("utf-8"))
    except BaseException as exc:  # noqa: BLE001 - importing user code can raise anything, SystemExit included
        send_frame(channel, {"status": "load_error", "type": type(exc).__name__,
                             "message": _capped(str(exc), MAX_MESSAGE_CHARS), "traceback": _submission_traceback(exc)})
        return
    send_frame(channel, {"status": "ready", "echo": _capped(echo.getvalue(), MAX_ECHO_CHARS)})
    while True:
        try:
            header, blob = recv_frame(channel)
        except ProtocolError:
            return
        if header.get("op") != "call":
            return
        reply, payload = _call(module, header, blob, device)
        send_frame(channel, reply, payload)
