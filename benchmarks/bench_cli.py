"""Browsing speed: `quiz list`, `show`, `start` never import torch, and `quiz list` costs at most
1.5x the import of its own libraries. Prints medians of whole-process runs.

    python benchmarks/bench_cli.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

LIBRARIES = "import click, pydantic, yaml, rich, platformdirs"
COMMANDS = {
    "list": ["list"],
    "show 52": ["show", "52"],
    "topics": ["topics"],
    "start --topic moe (quit at once)": ["start", "--topic", "moe", "--no-stub"],
}
QUIZ = [sys.executable, "-c", "from quizgen.cli import main; main()"]


def median_seconds(argv: list[str], runs: int, stdin: str = "q\n") -> float:
    times = []
    env = os.environ | {"QUIZGEN_HOME": tempfile.mkdtemp(prefix="quizgen-bench-")}
    for _ in range(runs + 1):  # the first run warms the file cache and is not counted
        start = time.perf_counter()
        subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def imports_torch(args: list[str]) -> bool:
    env = os.environ | {"QUIZGEN_HOME": tempfile.mkdtemp(prefix="quizgen-bench-")}
    result = subprocess.run([sys.executable, "-X", "importtime", *QUIZ[1:], *args], input="q\n",
                            capture_output=True, text=True, env=env)
    return any(line.rstrip().endswith((" torch", "| torch")) for line in result.stderr.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    baseline = median_seconds([sys.executable, "-c", LIBRARIES], runs)
    print(f"import of its libraries ({LIBRARIES[7:]}): {baseline * 1000:.0f} ms (median of {runs})")
    for label, args in COMMANDS.items():
        seconds = median_seconds(QUIZ + args, runs)
        print(f"quiz {label:<34} {seconds * 1000:6.0f} ms  = {seconds / baseline:.2f}x the libraries' import; "
              f"imports torch: {'YES' if imports_torch(args) else 'no'}")
    print("target: quiz list <= 1.5x; no browsing command imports torch")


if __name__ == "__main__":
    main()
