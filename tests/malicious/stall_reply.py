"""Attack (a stalled reply truncates the report): take over the worker's socket and send a reply one
byte a second, so that a per-recv timeout never fires and the overall deadline cuts the report short."""
# quizgen: question 52
import os
import stat
import struct
import time

import torch


def _channel() -> int:
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                return fd
        except OSError:
            continue
    return -1


def _stall():
    fd = _channel()
    header = b'{"status": "ok", "seconds": 0.0, "trace": {}, "mutated": [], "devices": ["cpu"], "echo": ""}'
    frame = struct.pack("!IQ", len(header), 0) + header
    for byte in frame:
        os.write(fd, bytes([byte]))
        time.sleep(1.0)
    time.sleep(3600)


def route_top_k(router_logits, k, renormalize):
    _stall()


def load_balancing_loss(router_logits, k):
    _stall()


def moe_forward(x, gate_w, w_in, w_out, k, renormalize):
    _stall()
