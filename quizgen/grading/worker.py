"""The untrusted side: one forked process per submission that loads it and answers calls.

It holds only the submission and the inputs of each call, never a reference, an expected value or
a hidden test. What it sends back is checked again by the trusted side (``protocol.decode_value``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
import time
import traceback
from pathlib import Path

import torch
from torch.utils._pytree import tree_flatten, tree_map

from quizgen.grading import harnesses
from quizgen.grading.protocol import ProtocolError, decode_value, encode_value, recv_frame, send_frame
from quizgen.grading.trace import CallTracer

MAX_ECHO_CHARS = 2000
MAX_TRACEBACK_CHARS = 3000
MODULE_NAME = "submission"


class BoundedEcho(io.TextIOBase):
    """Keeps the first MAX_ECHO_CHARS of what the submission prints; the rest is counted, not stored."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._kept = 0
        self._dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
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


def _submission_traceback(exc: BaseException, filename: str) -> str:
    """The traceback's frames that lie in the submission file: the user's lines, not ours."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return _capped("".join(lines), MAX_TRACEBACK_CHARS)


def _load_submission(source: str, private_dir: Path):
    path = private_dir / "submission.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module, str(path)


def _to_device(value, device: str):
    return tree_map(lambda v: v.to(device) if isinstance(v, torch.Tensor) else v, value)


def _snapshot(value):
    return tree_map(lambda v: v.detach().clone() if isinstance(v, torch.Tensor) else v, value)


def _mutated_arguments(before: tuple, after: tuple, names: list[str]) -> list[str]:
    changed = []
    for name, b, a in zip(names, before, after):
        b_leaves, _ = tree_flatten(b)
        a_leaves, _ = tree_flatten(a)
        for bl, al in zip(b_leaves, a_leaves):
            if isinstance(bl, torch.Tensor) and (
                bl.shape != al.shape or bl.dtype != al.dtype or not torch.equal(bl, al.detach())
            ):
                changed.append(name)
                break
    return changed


def _plain_result(value):
    """Results go back as plain CPU tensors and numbers; anything else is reported, not sent."""
    devices: set[str] = set()

    def convert(v):
        if isinstance(v, torch.Tensor):
            if type(v) is not torch.Tensor and not isinstance(v, torch.nn.Parameter):
                raise TypeError(f"returned a tensor subclass ({type(v).__name__}); return a plain torch.Tensor")
            devices.add(v.device.type)
            return v.detach().to("cpu").clone()
        if isinstance(v, (bool, int, float, type(None))):
            return v
        if isinstance(v, (list, tuple)):
            return type(v)(convert(x) for x in v) if type(v) in (list, tuple) else tuple(convert(x) for x in v)
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {k: convert(x) for k, x in v.items()}
        raise TypeError(f"returned a {type(v).__name__}; return tensors, numbers, or tuples/lists of them")

    return convert(value), sorted(devices)


def _call(module, header: dict, blob: bytes, device: str) -> tuple[dict, bytes]:
    fn_name = header["function"]
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        return {"status": "raised", "type": "AttributeError", "message": f"the submission defines no function {fn_name}()"}, b""
    request = decode_value(blob)
    args, kwargs = _to_device(list(request["args"]), device), _to_device(dict(request["kwargs"]), device)
    harness_params = _to_device(request.get("harness_params") or {}, device)
    before = _snapshot((args, kwargs))
    names = [f"argument {i + 1}" for i in range(len(args))] + [f"argument '{k}'" for k in kwargs]
    harness = header.get("harness")
    echo = BoundedEcho()
    start = time.perf_counter()
    tracer = CallTracer()
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
        return {"status": "oom", "message": f"{fn_name}() ran out of memory", "echo": _capped(echo.getvalue(), MAX_ECHO_CHARS)}, b""
    except Exception as exc:  # noqa: BLE001 - the submission's own error, reported to the user
        return {"status": "raised", "type": type(exc).__name__, "message": _capped(str(exc), 500),
                "traceback": _submission_traceback(exc, module.__file__),
                "echo": _capped(echo.getvalue(), MAX_ECHO_CHARS)}, b""
    seconds = time.perf_counter() - start
    mutated = _mutated_arguments(tuple(before[0]) + tuple(before[1].values()),
                                 tuple(args) + tuple(kwargs.values()), names)
    try:
        plain, devices = _plain_result(result)
        payload = encode_value(plain)
    except (TypeError, RuntimeError) as exc:
        return {"status": "bad_return", "message": f"{fn_name}() {exc}"}, b""
    return {"status": "ok", "seconds": seconds, "trace": tracer.summary(), "mutated": mutated,
            "devices": devices, "echo": _capped(echo.getvalue(), MAX_ECHO_CHARS)}, payload


def serve(channel, private_dir: Path, device: str) -> None:
    """Load the submission sent first on ``channel``, then answer calls until told to stop."""
    header, blob = recv_frame(channel)
    source = blob.decode("utf-8")
    echo = BoundedEcho()
    try:
        with contextlib.redirect_stdout(echo), contextlib.redirect_stderr(echo):
            module, filename = _load_submission(source, private_dir)
    except BaseException as exc:  # noqa: BLE001 - importing user code can raise anything, SystemExit included
        send_frame(channel, {"status": "load_error", "type": type(exc).__name__,
                             "message": _capped(str(exc), 500),
                             "traceback": _submission_traceback(exc, str(private_dir / "submission.py"))})
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


def main_in_child(channel, private_dir: Path, device: str) -> None:
    """Entry of the forked worker, after the sandbox is set up. Never returns."""
    code = 0
    try:
        serve(channel, private_dir, device)
    except BaseException:  # noqa: BLE001 - a worker ends quietly; the grader reports what it saw
        code = 3
    finally:
        os._exit(code)
