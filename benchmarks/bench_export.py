"""How long `quiz export --html` takes for the whole bank (target: under one second).

Run: python benchmarks/bench_export.py [--runs 5]

Prints the median of several runs for:
  - in-process render_sheet, fragment cache off (every formula, Markdown block and code block rendered);
  - in-process render_sheet, fragment cache warm (what a repeated export costs);
  - the CLI as a whole process (python start-up, imports, loading the bank, the export), cold and warm;
  - for scale, a process that only imports quizgen and loads the bank: the floor no export can go under.
Everything runs with QUIZGEN_HOME in a private temporary folder, so no user data is read or written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 1.0
CLI = "from quizgen.cli import main; main()"
BANK_ONLY = "from quizgen.bank import load_bank; load_bank()"


def median_time(fn, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def run_process(code: str, *args: str, home: Path) -> None:
    env = {**os.environ, "QUIZGEN_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the command failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (the median is printed)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="quizgen-bench-export-"))
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
        return render_sheet(questions, with_solutions=True, progress=progress, fragment_cache=None)

    def render_cached() -> str:
        return render_sheet(questions, with_solutions=True, progress=progress)

    start = time.perf_counter()
    page = render_fresh()  # the first call also imports markdown-it, latex2mathml and Pygments
    first = time.perf_counter() - start
    fresh, _ = median_time(render_fresh, args.runs)
    render_cached()  # fills the fragment cache
    cached, _ = median_time(render_cached, args.runs)

    cli_args = ("export", "--html", str(out), "--with-solutions", "--with-progress")
    cold_homes = iter(work / f"cold-{i}" for i in range(args.runs))
    cli_cold, _ = median_time(lambda: run_process(CLI, *cli_args, home=next(cold_homes)), args.runs)
    warm_home = work / "warm"
    run_process(CLI, *cli_args, home=warm_home)
    cli_warm, _ = median_time(lambda: run_process(CLI, *cli_args, home=warm_home), args.runs)
    floor, _ = median_time(lambda: run_process(BANK_ONLY, home=warm_home), args.runs)

    n_math = page.count("<math")
    print(f"quiz export: {len(questions)} questions, {n_math} formulas, {len(page) / 1024:.0f} KiB of HTML "
          f"(with solutions and progress), median of {args.runs} runs")
    rows = [
        ("in-process, first call (imports included)", first),
        ("in-process, fragment cache off", fresh),
        ("in-process, fragment cache warm", cached),
        ("CLI process, fragment cache cold", cli_cold),
        ("CLI process, fragment cache warm", cli_warm),
        ("  floor: python + import quizgen + load_bank", floor),
    ]
    for label, seconds in rows:
        print(f"  {label:<46} {seconds * 1000:8.0f} ms")
    verdict = "met" if cached < TARGET_S else "MISSED"
    print(f"target: whole bank under {TARGET_S:g} s in process (warm cache): {verdict}; "
          f"the CLI adds start-up and bank loading ({floor * 1000:.0f} ms here)")


if __name__ == "__main__":
    main()
