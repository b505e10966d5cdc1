"""The grade of one submission, as pydantic models: one Status for every consumer (plugin, report,
terminal, export, database), one TestResult per test, and the Report that holds them.

A report always covers every test the suite collected: the parent learns the collected tests
before any submission code runs, and a test that never reported is "not-run", never missing, so
the maximum is always the suite's total.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

RULE_CAP = 50.0  # breaking the rule a task exists for caps the score here
HELD_BACK = "passed, but its points count once the function passes a test of its values"


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the submission raised
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out-of-memory"
    NOT_RUN = "not-run"  # an earlier timeout, the overall budget, or the grading ended first
    SKIPPED = "skipped"
    GRADER_ERROR = "grader-error"  # our bug, not the submission's

    def __str__(self) -> str:
        return self.value


class TestResult(BaseModel):
    __test__ = False  # not a pytest class

    id: str = Field(description="the test's id within its suite, e.g. test_route_top_k[7-8-2-True-dtype1]")
    name: str = Field(description="the test function, e.g. test_route_top_k_matches_reference")
    case: str = Field(default="", description="readable parameters, e.g. T=7 E=8 k=2 renormalize=True float64")
    function: str = Field(default="", description="the submission's function this test checks")
    weight: float = Field(description="points this test is worth")
    rule: str = Field(default="", description="the task's rule this test enforces; failing it caps the score")
    status: Status = Status.NOT_RUN
    message: str = ""
    raised: str = Field(default="", description="the exception type the submission raised, if it raised")
    diagnosis: str = Field(default="", description="the known mistake this failure looks like, if any")
    errors_only: bool = Field(default=False, description="the test checked only that bad arguments raise")
    held_back: bool = Field(default=False, description="its points wait until the function computes a right value")
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == Status.PASSED

    @property
    def score(self) -> float:
        return self.weight if self.passed and not self.held_back else 0.0

    @property
    def title(self) -> str:
        return f"{self.name} [{self.case}]" if self.case else self.name


def hold_back_error_points(tests: list[TestResult]) -> list[TestResult]:
    """A function that only raises ValueError passes every "rejects bad arguments" test: those points
    count once the function also passes a test of its values."""
    computes = {t.function for t in tests if t.passed and not t.errors_only}
    return [t.model_copy(update={"held_back": True}) if t.passed and t.errors_only and t.function not in computes
            else t for t in tests]


class Report(BaseModel):
    question_id: int
    file: str
    file_sha256: str = ""
    gradable: bool = True
    message: str = ""
    tests: list[TestResult] = Field(default_factory=list)
    isolation: str = ""
    isolation_mode: str = ""
    device: str = "cpu"
    seed: int | None = None
    seconds: float = 0.0

    @property
    def max_score(self) -> float:
        return round(sum(t.weight for t in self.tests), 6)

    @property
    def rules_broken(self) -> list[str]:
        return sorted({t.rule for t in self.tests if t.rule and not t.passed})

    @property
    def score(self) -> float:
        earned = sum(t.score for t in self.tests)
        if self.rules_broken:
            earned = min(earned, RULE_CAP)
        return round(earned, 6)

    @property
    def all_passed(self) -> bool:
        return self.gradable and bool(self.tests) and all(t.passed for t in self.tests)

    @property
    def failing(self) -> list[TestResult]:
        return [t for t in self.tests if not t.passed]

    @property
    def nothing_implemented(self) -> bool:
        """Every function still raises NotImplementedError: the untouched stub, not an attempt."""
        raised = [t for t in self.tests if t.raised]
        return (self.gradable and bool(raised) and not any(t.passed for t in self.tests)
                and all(t.raised == "NotImplementedError" for t in raised)
                and all(t.raised or t.status == Status.NOT_RUN for t in self.tests))

    def to_gradescope(self) -> dict:
        """Gradescope's results.json: hidden tests show their name and message, never their code."""
        summary = f"Isolation: {self.isolation}. Device: {self.device}. Seed: {self.seed}."
        extra = {"question": self.question_id, "isolation": self.isolation, "isolation_mode": self.isolation_mode,
                 "device": self.device, "seed": self.seed, "sha256": self.file_sha256,
                 "test_seconds": round(sum(t.seconds for t in self.tests), 4)}
        if not self.gradable:
            return {"score": 0.0, "max_score": 100.0, "execution_time": round(self.seconds, 3),
                    "output": f"{self.message}\n{summary}", "tests": [], "extra_data": extra | {"gradable": False}}
        lead = [f"Rule broken: {', '.join(self.rules_broken)}; the score is capped at {RULE_CAP:g}."] if self.rules_broken else []
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.seconds, 3),
            "output": "\n".join([*lead, self.message, summary]).strip(),
            "visibility": "visible",
            "tests": [
                {"name": t.title, "score": round(t.score, 6), "max_score": round(t.weight, 6),
                 "status": "passed" if t.passed else "failed",
                 "output": (HELD_BACK if t.held_back else t.message) if t.passed else f"[{t.status}] {t.message}"
                 + (f"\nLooks like: {t.diagnosis}" if t.diagnosis else ""),
                 "tags": [t.function] if t.function else [], "visibility": "visible"}
                for t in self.tests
            ],
            "extra_data": extra,
        }
