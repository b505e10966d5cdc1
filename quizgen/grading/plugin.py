"""The pytest plugin: fixtures for hidden suites, and one result per test written as it finishes.

Each result is a JSON line flushed at once, so a crash late in a run loses nothing. Structured
fields ride on the report (status, message, points) instead of being parsed from traceback text.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
import torch

from quizgen.grading.proxy import ContractViolation, Submission, SubmissionFailure

MAX_MESSAGE_CHARS = 4000


def _seed_for(base_seed: int, nodeid: str) -> int:
    digest = hashlib.sha256(f"{base_seed}:{nodeid}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def _short_name(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1]


class OnDevice:
    """The reference module, run on the grading device: tensor arguments go there, results come back
    to the CPU, so that `--device cuda` compares GPU against GPU with the dtype's tolerances."""

    def __init__(self, module, device: str):
        self._module, self._device = module, device

    def __getattr__(self, name: str):
        from torch.utils._pytree import tree_map

        attr = getattr(self._module, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            move = lambda v: v.to(self._device) if isinstance(v, torch.Tensor) else v  # noqa: E731
            result = attr(*tree_map(move, args), **tree_map(move, kwargs))
            return tree_map(lambda v: v.cpu() if isinstance(v, torch.Tensor) else v, result)

        return call


class GradingPlugin:
    def __init__(self, submission: Submission, reference, results_path: Path, base_seed: int, device: str):
        # Underscored: the fixtures below take the plain names, and pytest reads them off this object.
        self._submission, self._reference, self._device = submission, reference, device
        self.base_seed = base_seed
        self._weights: dict[str, float] = {}
        self._out = results_path.open("a", encoding="utf-8")

    # -- fixtures -----------------------------------------------------------------------------
    @pytest.fixture
    def submission(self) -> Submission:
        return self._submission

    @pytest.fixture
    def reference(self):
        return self._reference if self._device == "cpu" else OnDevice(self._reference, self._device)

    @pytest.fixture
    def device(self) -> str:
        return self._device

    @pytest.fixture
    def rng(self, request) -> torch.Generator:
        return torch.Generator().manual_seed(_seed_for(self.base_seed, request.node.nodeid))

    # -- collection: points -------------------------------------------------------------------
    def pytest_collection_modifyitems(self, items) -> None:
        per_function: dict[str, list] = {}
        for item in items:
            per_function.setdefault(item.nodeid.split("[")[0], []).append(item)
        for group in per_function.values():
            marker = group[0].get_closest_marker("points")
            total = float(marker.args[0]) if marker else 0.0
            for item in group:
                self._weights[item.nodeid] = total / len(group)

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self._write({"name": f"collecting {report.nodeid or 'the suite'}", "weight": 0.0, "status": "grader-error",
                         "message": str(report.longrepr)[:MAX_MESSAGE_CHARS], "seconds": 0.0})

    # -- results ------------------------------------------------------------------------------
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if call.excinfo is None:
            return
        exc = call.excinfo.value
        if isinstance(exc, SubmissionFailure):
            status, message = exc.status, str(exc)
        elif isinstance(exc, (AssertionError, ContractViolation)):
            status, message = "failed", str(exc) or "assertion failed"
        elif isinstance(exc, (TypeError, IndexError, ValueError, AttributeError, RuntimeError)) and call.when == "call":
            # Almost always the submission returned the wrong kind of value (a tensor for a tuple...).
            status, message = "failed", f"the result could not be checked: {type(exc).__name__}: {exc}"
        else:
            status, message = "grader-error", f"{type(exc).__name__}: {exc}"
        report.user_properties.append(("quizgen", {"status": status, "message": message}))

    def pytest_runtest_logreport(self, report) -> None:
        props = dict(report.user_properties).get("quizgen")
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.passed:
                status, message = "passed", ""
            elif report.skipped:
                status, message = "skipped", str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
            elif props:
                status, message = props["status"], props["message"]
            else:
                status, message = "grader-error", str(report.longrepr)[:MAX_MESSAGE_CHARS]
            if status not in ("passed", "skipped"):
                message = f"{message}\n(seed {self.base_seed}: replay with --seed {self.base_seed})"
            self._write({"name": _short_name(report.nodeid), "weight": self._weights.get(report.nodeid, 0.0),
                         "status": status, "message": message[:MAX_MESSAGE_CHARS],
                         "seconds": round(report.duration, 4)})

    def _write(self, record: dict) -> None:
        record["time"] = time.time()
        self._out.write(json.dumps(record) + "\n")
        self._out.flush()

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        self._out.close()
