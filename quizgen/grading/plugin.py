"""The pytest plugin that runs a hidden suite in the trusted grading process.

It provides the suites' fixtures, registers the ``points`` and ``rule`` markers, and builds the
typed records of ``quizgen.grading.records``. One session collects the suite once and grades one
or more files of the same task in turn (``quiz validate`` and a class pay for pytest once per
batch): for each, the collected tests first (then, and only then, its code is loaded in a fresh
worker), one result per test as it finishes, and ``done``.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import pytest
import torch
from _pytest.runner import runtestprotocol

from quizgen.grading.client import (
    ContractViolation,
    Launcher,
    SandboxError,
    Submission,
    SubmissionFailure,
    SubmissionLoadError,
    SubmissionRaised,
)
from quizgen.grading.diagnose import Diagnoser
from quizgen.grading.records import (
    Collected,
    Done,
    Finished,
    NotGradable,
    PlannedTest,
    write_record,
)
from quizgen.grading.report import Status, TestResult
from quizgen.wire import WorkerLimits

MAX_MESSAGE_CHARS = 4000


def seed_for(base_seed: int, nodeid: str) -> int:
    digest = hashlib.sha256(f"{base_seed}:{nodeid}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def short_id(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1]


def _readable(value) -> str:
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def case_of(item) -> str:
    """The parameters of a parametrized case, readably: ``T=7 E=8 k=2 renormalize=True float64``."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return " ".join(_readable(v) if isinstance(v, torch.dtype) else f"{k}={_readable(v)}" for k, v in params.items())


def function_of(item, functions: list[str]) -> str:
    """The submission function a test checks: its ``function`` parameter, else the longest required
    function named in the test's name."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    if params.get("function") in functions:
        return params["function"]
    named = [f for f in functions if f in item.name]
    return max(named, key=len) if named else ""


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
            move = lambda v: v.to(self._device) if isinstance(v, torch.Tensor) else v
            result = attr(*tree_map(move, args), **tree_map(move, kwargs))
            return tree_map(lambda v: v.cpu() if isinstance(v, torch.Tensor) else v, result)

        return call


def _status_of(exc: BaseException, when: str) -> tuple[Status, str, str]:
    """(status, message, the exception type the submission raised) for an exception in a test."""
    if isinstance(exc, SubmissionRaised):
        return Status.ERROR, str(exc), exc.type_name
    if isinstance(exc, SubmissionFailure):
        return exc.status, str(exc), ""
    if isinstance(exc, (AssertionError, ContractViolation)):
        return Status.FAILED, str(exc) or "assertion failed", ""
    if isinstance(exc, (TypeError, IndexError, ValueError, AttributeError, RuntimeError, KeyError)) and when == "call":
        # Almost always the submission returned the wrong kind of value (a tensor for a tuple...).
        return Status.FAILED, f"the result could not be checked: {type(exc).__name__}: {exc}", ""
    return Status.GRADER_ERROR, f"{type(exc).__name__}: {exc}", ""


def _first_cases_first(items: list, try_first: tuple[str, ...] = ()) -> list:
    """``try_first``, then the first case of every test, then the second of every test, and so on: a
    known-wrong file (graded only until its first failure) fails at once, or within a round, instead
    of after every case before the one that catches it. The order changes when a file fails, never whether."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(item.nodeid.split("[")[0], []).append(item)
    rounds = max((len(g) for g in groups.values()), default=0)
    ordered = [g[i] for i in range(rounds) for g in groups.values() if i < len(g)]
    first = [item for item in ordered if short_id(item.nodeid) in try_first]
    return first + [item for item in ordered if item not in first]


@dataclass(frozen=True)
class FileToGrade:
    """One file of a grading session, with how it is graded."""

    source: str
    display_name: str
    seed: int
    limits: WorkerLimits
    stop_at_first_failure: bool = False
    diagnose: bool = True
    try_first: tuple[str, ...] = ()  # test ids to run first (the test that caught this file last time)


class GradingPlugin:
    def __init__(self, files: list[FileToGrade], launcher: Launcher, reference, out_fd: int, device: str,
                 functions: list[str], forbid_ops: list[str], diagnoser: Diagnoser | None = None):
        # Underscored: the fixtures below take the plain names, and pytest reads them off this object.
        self._files, self._launcher, self._reference, self._device = files, launcher, reference, device
        self._out, self._functions, self._forbid_ops, self._diagnoser = out_fd, functions, forbid_ops, diagnoser
        self._submission: Submission | None = None
        self._seed = 0
        self._planned: dict[str, PlannedTest] = {}
        self._outcomes: dict[str, tuple[Status, str, str]] = {}

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
        return torch.Generator().manual_seed(seed_for(self._seed, request.node.nodeid))

    # -- collection -----------------------------------------------------------------------------
    def pytest_configure(self, config) -> None:
        config.addinivalue_line("markers", "points(n): the test's weight, split evenly over its parametrized cases")
        config.addinivalue_line("markers", "rule(name): the task's rule this test enforces; failing caps the score")

    def pytest_collection_modifyitems(self, items) -> None:
        groups: dict[str, list] = {}
        for item in items:
            groups.setdefault(item.nodeid.split("[")[0], []).append(item)
        for group in groups.values():
            marker = group[0].get_closest_marker("points")
            total = float(marker.args[0]) if marker else 0.0
            for item in group:
                rule = item.get_closest_marker("rule")
                self._planned[item.nodeid] = PlannedTest(
                    id=short_id(item.nodeid), name=item.originalname or item.name.split("[")[0], case=case_of(item),
                    function=function_of(item, self._functions), weight=total / len(group),
                    rule=str(rule.args[0]) if rule else "")

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            raise RuntimeError(f"the hidden suite did not collect: {str(report.longrepr)[:MAX_MESSAGE_CHARS]}")

    # -- running --------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session) -> bool:
        for index, file in enumerate(self._files):
            self._grade(index, file, session.items)
        return True

    def _grade(self, index: int, file: FileToGrade, items: list) -> None:
        """One file: its planned tests, then (in a fresh worker) each test, then done."""
        write_record(self._out, Collected(job=index, tests=[self._planned[i.nodeid] for i in items]))
        self._seed = file.seed
        self._submission = Submission(self._launcher, file.source, self._functions, file.limits, file.display_name,
                                      deadline=time.monotonic() + file.limits.total_seconds, forbid_ops=self._forbid_ops)
        try:
            try:
                self._submission.load()
            except (SubmissionFailure, SandboxError) as exc:
                what = ("" if isinstance(exc, SubmissionLoadError) else
                        "the grading sandbox failed: " if isinstance(exc, SandboxError) else "loading failed: ")
                write_record(self._out, NotGradable(job=index, message=f"{file.display_name}: {what}{exc}"))
                return
            diagnoser = self._diagnoser if file.diagnose and self._device == "cpu" else None
            for item in _first_cases_first(items, file.try_first) if file.stop_at_first_failure else items:
                self._outcomes.pop(item.nodeid, None)
                self._submission.called.clear()
                self._submission.recorded.clear()
                self._submission.values_returned = 0
                result = self._result(item, runtestprotocol(item, nextitem=None, log=False), diagnoser)
                write_record(self._out, Finished(job=index, result=result))
                if file.stop_at_first_failure and not result.passed:
                    break
            write_record(self._out, Done(job=index))
        finally:
            self._submission.close()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if call.excinfo is not None and item.nodeid not in self._outcomes:
            self._outcomes[item.nodeid] = _status_of(call.excinfo.value, call.when)
        del outcome

    def _result(self, item, reports: list, diagnoser: Diagnoser | None) -> TestResult:
        planned = self._planned[item.nodeid]
        report = next((r for r in reports if r.when == "call"), None) or next((r for r in reports if not r.passed),
                                                                               reports[-1])
        if report.passed:
            status, message, raised = Status.PASSED, "", ""
        elif report.skipped:
            status, message, raised = Status.SKIPPED, str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else "", ""
        else:
            status, message, raised = self._outcomes.get(item.nodeid, (Status.GRADER_ERROR, str(report.longrepr), ""))
        called = self._submission.called
        function = planned.function or (called[0] if called else "")
        diagnosis = ""
        if status in (Status.FAILED, Status.ERROR) and diagnoser is not None:
            try:
                diagnosis = diagnoser.diagnose(self._submission.recorded)
            except Exception:  # noqa: BLE001 - naming the mistake is a courtesy; it never costs the grade
                diagnosis = ""
        return TestResult(**planned.model_dump() | {"function": function}, status=status,
                          message=message[:MAX_MESSAGE_CHARS], raised=raised, diagnosis=diagnosis,
                          errors_only=bool(called) and self._submission.values_returned == 0,
                          seconds=round(sum(r.duration for r in reports), 4))
