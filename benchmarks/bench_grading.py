"""What grading costs, each figure against an anchor measured in the same run.

    python benchmarks/bench_grading.py [--runs 5] [--no-validate]

- the walls: one fresh sandboxed worker per submission (fork, walls, load a file), strong and
  degraded, and one proxied call; goal <= 60 ms per submission
- cold `quiz submit` of a correct question-52 file (a fresh process, no server) against
  `python -c "import torch"`: goal (wall - the suite's own test time) <= 1.5 x the import
- warm regrade through the grading server: goal wall - test time <= 0.3 s
- `quiz validate` over the whole bank: goal <= 20 s wall on a 2-core machine
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUIZ = [sys.executable, "-c", "from quizgen.cli import main; main()"]
TRIVIAL = "import torch\n\ndef f(x):\n    return x * 2\n"


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def spread(samples: list[float], unit: float = 1.0, fmt: str = "{:.2f}") -> str:
    return (f"median {fmt.format(median(samples) * unit)} (min {fmt.format(min(samples) * unit)}, "
            f"max {fmt.format(max(samples) * unit)})")


def wall(cmd: list[str], env: dict, cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, result


def bench_walls(runs: int) -> None:
    import torch

    from quizgen.grading.client import Launcher, Submission
    from quizgen.wire import WorkerLimits

    x = torch.randn(64, 64)
    for disable in (None, "benchmark"):  # strong, then degraded
        launcher = Launcher(hide=[], disable_namespaces=disable)
        start = time.perf_counter()
        isolation = launcher.isolation
        started = time.perf_counter() - start
        spawn, calls = [], []
        for _ in range(runs * 4):
            submission = Submission(launcher, TRIVIAL, ["f"], WorkerLimits())
            start = time.perf_counter()
            submission.load()
            spawn.append(time.perf_counter() - start)
            for _ in range(3):
                start = time.perf_counter()
                submission.f(x)
                calls.append(time.perf_counter() - start)
            submission.close()
        launcher.close()
        print(f"[{isolation.mode}] launcher start {started:.2f} s; per submission (fork, walls, load): "
              f"{spread(spawn, 1000, '{:.1f}')} ms (goal <= 60 ms); per call (64x64 there and back): "
              f"{spread(calls, 1000, '{:.2f}')} ms")


def bench_submit(runs: int) -> None:
    source = "# quizgen: question 52\n" + (REPO / "solutions" / "52_moe" / "reference.py").read_text()
    folder = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    (folder / "moe.py").write_text(source)
    base = os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}
    imports, cold, cold_tests = [], [], []
    for _ in range(runs):
        imports.append(wall([sys.executable, "-c", "import torch"], base)[0])
        env = base | {"QUIZGEN_HOME": tempfile.mkdtemp(prefix="bench-home-"), "QUIZGEN_SERVER": "0"}
        seconds, result = wall([*QUIZ, "submit", "moe.py", "--json"], env, folder)
        data = json.loads(result.stdout)
        assert data["score"] == 100, result.stderr
        cold.append(seconds)
        cold_tests.append(data["extra_data"]["test_seconds"])
    anchor = median(imports)
    beyond = median([c - t for c, t in zip(cold, cold_tests)])
    print(f"python -c 'import torch' (anchor): {spread(imports)} s")
    print(f"cold quiz submit, correct 52: {spread(cold)} s wall, of which tests {median(cold_tests):.2f} s; "
          f"wall / anchor = {median(cold) / anchor:.2f}x; (wall - tests) / anchor = {beyond / anchor:.2f}x (goal <= 1.5x)")

    home = tempfile.mkdtemp(prefix="bench-home-")
    env = base | {"QUIZGEN_HOME": home, "QUIZGEN_SERVER": "1", "QUIZGEN_SERVER_IDLE_S": "20"}
    first, _ = wall([*QUIZ, "submit", "moe.py", "--json"], env, folder)
    warm, warm_tests = [], []
    for _ in range(runs):
        seconds, result = wall([*QUIZ, "submit", "moe.py", "--json"], env, folder)
        warm.append(seconds)
        warm_tests.append(json.loads(result.stdout)["extra_data"]["test_seconds"])
    overhead = [w - t for w, t in zip(warm, warm_tests)]
    print(f"warm regrade through the grading server (first call, which starts it: {first:.2f} s): {spread(warm)} s wall, "
          f"tests {median(warm_tests):.2f} s; beyond the tests {spread(overhead)} s (goal <= 0.30 s); "
          f"anchor ratio {median(warm) / anchor:.2f}x")


def bench_validate() -> None:
    env = os.environ | {"QUIZGEN_HOME": tempfile.mkdtemp(prefix="bench-home-"), "QUIZGEN_SERVER": "0"}
    seconds, result = wall([*QUIZ, "validate"], env)
    status = "ok" if result.returncode == 0 else "FAILED"
    anchor = median([wall([sys.executable, "-c", "import torch"], env)[0] for _ in range(3)])
    print(f"quiz validate, whole bank: {seconds:.1f} s wall ({status}; {seconds / anchor:.1f}x the torch import; "
          f"goal <= 20 s on 2 cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-validate", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    bench_walls(args.runs)
    bench_submit(args.runs)
    if not args.no_validate:
        bench_validate()


if __name__ == "__main__":
    main()
