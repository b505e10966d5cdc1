"""What isolation and grading cost: per submission (a fresh sandboxed worker), per call (a proxied
call against a direct one), one `quiz submit`, and `quiz validate` per task and for the whole bank.

    python benchmarks/bench_grading.py [--runs 20] [--validate]
"""

from __future__ import annotations

import argparse
import statistics
import time

SOURCE = "import torch\n\ndef f(x):\n    return x * 2\n"


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.1f} ms (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})"


def bench_isolation(runs: int) -> None:
    import torch

    from quizgen.grading.proxy import Launcher, Submission, WorkerLimits

    x = torch.randn(64, 64)
    for mode, disable in (("strong", None), ("degraded", "benchmark")):
        launcher = Launcher(hide=[], disable_namespaces=disable)
        start = time.perf_counter()
        isolation = launcher.isolation
        print(f"[{mode}] launcher start (imports torch once): {time.perf_counter() - start:.2f} s; mode {isolation['mode']}")
        spawn, calls = [], []
        for _ in range(runs):
            submission = Submission(launcher, SOURCE, ["f"], WorkerLimits())
            start = time.perf_counter()
            submission.load()
            spawn.append(time.perf_counter() - start)
            for _ in range(5):
                start = time.perf_counter()
                submission.f(x)
                calls.append(time.perf_counter() - start)
            submission.close()
        launcher.close()
        print(f"[{mode}] per submission (fork a worker, load the file): {median_ms(spawn)}")
        print(f"[{mode}] per call (64x64 tensor there and back, traced):  {median_ms(calls)}")
    direct = []
    for _ in range(runs * 5):
        start = time.perf_counter()
        (lambda t: t * 2)(x)
        direct.append(time.perf_counter() - start)
    print(f"direct in-process call, for comparison:                 {median_ms(direct)}")


def bench_submit(runs: int) -> None:
    from quizgen.bank import load_bank
    from quizgen.grading.runner import grade_checked, grading_launcher
    from quizgen.grading.static import check_source
    from quizgen.paths import solutions_dir

    bank = load_bank()
    source = "# quizgen: question 52\n" + (solutions_dir() / "52_moe" / "reference.py").read_text()
    checked = check_source(source, "moe.py", bank, 52)
    with grading_launcher() as launcher:
        launcher.isolation  # noqa: B018
        times = []
        for _ in range(max(3, runs // 5)):
            start = time.perf_counter()
            report = grade_checked(checked, launcher)
            times.append(time.perf_counter() - start)
    print(f"grading the 52 reference ({len(report.tests)} tests, score {report.score:g}) with a warm launcher: "
          f"{median_ms(times)}")


def bench_validate() -> None:
    from quizgen.bank import load_bank
    from quizgen.grading.runner import grading_launcher
    from quizgen.grading.validate import validate_task

    total = time.perf_counter()
    with grading_launcher() as launcher:
        launcher.isolation  # noqa: B018
        for question in load_bank().questions:
            result = validate_task(question, launcher)
            suite = sum(t.seconds for t in result.reference.tests) if result.reference else 0.0
            ref_wall = result.reference.seconds if result.reference else 0.0
            print(f"validate {question.id} {question.slug:<22} {result.seconds:6.1f} s  (reference: {ref_wall:.2f} s "
                  f"wall, tests {suite:.2f} s; {len(result.mutants)} wrong files) {'ok' if result.ok else 'FAILED'}")
    print(f"quiz validate, whole bank: {time.perf_counter() - total:.1f} s (target 90 s on 2 cores; each suite <= 10 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--validate", action="store_true", help="also time quiz validate over the bank")
    args = parser.parse_args()
    bench_isolation(args.runs)
    bench_submit(args.runs)
    if args.validate:
        bench_validate()


if __name__ == "__main__":
    main()
