"""The grade of one submission, as a pydantic model: rendered by rich, or printed as Gradescope JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["passed", "failed", "error", "timeout", "out-of-memory", "skipped", "grader-error"]


class TestResult(BaseModel):
    name: str
    weight: float = Field(description="points this test is worth")
    status: Status
    message: str = ""
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return self.weight if self.status == "passed" else 0.0


class Report(BaseModel):
    question_id: int
    file: str
    file_sha256: str = ""
    gradable: bool = True
    message: str = ""
    tests: list[TestResult] = Field(default_factory=list)
    isolation: str = ""
    device: str = "cpu"
    seed: int | None = None
    seconds: float = 0.0

    @property
    def max_score(self) -> float:
        return round(sum(t.weight for t in self.tests), 6)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def all_passed(self) -> bool:
        return self.gradable and bool(self.tests) and all(t.status == "passed" for t in self.tests)

    @property
    def failing(self) -> list[TestResult]:
        return [t for t in self.tests if t.status != "passed"]

    def to_gradescope(self) -> dict:
        """Gradescope's results.json: hidden tests show their name and message, never their code."""
        summary = f"Isolation: {self.isolation}. Device: {self.device}. Seed: {self.seed}."
        if not self.gradable:
            return {"score": 0.0, "execution_time": round(self.seconds, 3), "output": f"{self.message}\n{summary}",
                    "tests": [], "extra_data": {"gradable": False, "isolation": self.isolation}}
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.seconds, 3),
            "output": summary,
            "visibility": "visible",
            "tests": [
                {"name": t.name, "score": round(t.score, 6), "max_score": round(t.weight, 6),
                 "status": "passed" if t.status == "passed" else "failed",
                 "output": t.message if t.status == "passed" else f"[{t.status}] {t.message}",
                 "visibility": "visible"}
                for t in self.tests
            ],
            "extra_data": {"question": self.question_id, "isolation": self.isolation, "device": self.device,
                           "seed": self.seed, "sha256": self.file_sha256},
        }
