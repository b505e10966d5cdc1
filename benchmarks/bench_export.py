"""How long `quiz export --html` takes for the whole bank (target: under one second).

Run: python benchmarks/bench_export.py [--runs 5]

Prints the median of several runs for:
  - in-process render_sheet, fragment cache off (every formula, Markdown block and code block rendered);
  - in-process render_sheet, fragment cache warm (what a repeated export costs);
  - the CLI as a whole process (python start-up, imports, loading the bank, the export), cold and warm;
  - for scale, a process that only imports quizgen and loads the bank: the floor no export can go under.
Everything runs with QUIZGEN_HOME in a private temporary folder, so no user data is read or written.
Process figures give wall-clock time and the CPU time (user + system) of the child: on a busy machine
the wall clock swings, the CPU time much less.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 1.0
CLI = "from quizgen.cli import main; main()"
BANK_ONLY = "from quizgen.bank import load_bank; load_bank()"


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_process(code: str, *args: str, homes, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``python -c code args``, each run with the next QUIZGEN_HOME."""
    walls, cpus = [], []
    for _ in range(runs):
        env = {**os.environ, "QUIZGEN_HOME": str(next(homes))}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"the command failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (the median is printed)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="quizgen-bench-export-"))
    try:
        run(work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, runs: int) -> None:
    os.environ["QUIZGEN_HOME"] = str(work / "home")
    out = work / "sheet.html"

    from quizgen.bank import load_bank
    from quizgen.export import load_progress, render_sheet
    from quizgen.export.markup import latex_to_mathml
    from quizgen.store import open_store

    questions = load_bank().questions
    progress = load_progress(open_store(), [q.id for q in questions])

    def render_fresh() -> str:
        latex_to_mathml.cache_clear()
        return render_sheet(questions, with_solutions=True, progress=progress, cache_dir=None)

    def render_cached() -> str:
        return render_sheet(questions, with_solutions=True, progress=progress)

    start = time.perf_counter()
    page = render_fresh()  # the first call also imports markdown-it, latex2mathml and Pygments
    first = time.perf_counter() - start
    in_fresh = median_time(render_fresh, runs)
    render_cached()  # fills the cache
    in_cached = median_time(render_cached, runs)

    export = ("export", "--html", str(out), "--with-solutions")
    warm = itertools.repeat(work / "warm")
    cold = (work / f"cold-{i}" for i in itertools.count())
    median_process(CLI, *export, "--with-progress", homes=warm, runs=1)  # fills the cache
    rows = [
        ("in-process, first call (imports included)", first, None),
        ("in-process, cache off", in_fresh, None),
        ("in-process, cache warm", in_cached, None),
        ("CLI, cache cold, --with-progress", *median_process(CLI, *export, "--with-progress", homes=cold, runs=runs)),
        ("CLI, cache warm, --with-progress", *median_process(CLI, *export, "--with-progress", homes=warm, runs=runs)),
        ("CLI, cache warm", *median_process(CLI, *export, homes=warm, runs=runs)),
        ("floor: python, import quizgen, load_bank", *median_process(BANK_ONLY, homes=warm, runs=runs)),
    ]
    print(f"quiz export: {len(questions)} questions, {page.count('<math')} formulas, {len(page) / 1024:.0f} KiB "
          f"of HTML (with solutions and progress); median of {runs} runs")
    print(f"  {'':<44} {'wall':>8} {'cpu':>8}")
    for label, wall, cpu in rows:
        print(f"  {label:<44} {wall * 1000:6.0f} ms" + (f" {cpu * 1000:5.0f} ms" if cpu is not None else ""))
    verdict = "met" if in_cached < TARGET_S else "MISSED"
    print(f"target (whole bank under {TARGET_S:g} s, in process, cache warm): {verdict}")


if __name__ == "__main__":
    main()
