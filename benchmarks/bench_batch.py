"""Throughput of grading a class: the local pool (`quiz grade-batch`) and a dask LocalCluster
(`quiz grade-batch --workers K`), each at 1 and 2.

    python benchmarks/bench_batch.py [--files 10] [--repeats 3]

The class is ``--files`` correct copies of question 52's reference (with its header line). Start-up
(a launcher, or a cluster whose workers have started their launchers) is timed apart from the
grading itself, which is what a large class pays per file. Printed per path: files/s at 1 and 2, and
parallel efficiency = throughput at 2 / (2 x throughput at 1), from the median runs (and from the
best runs: on a shared machine, the least disturbed); goal >= 85% at 2 on a 2-core machine. The
core count and load average are printed too: on a shared machine the load is part of the figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_class(folder: Path, files: int) -> None:
    reference = (REPO / "solutions" / "52_moe" / "reference.py").read_text()
    for i in range(files):
        (folder / f"student_{i:03d}.py").write_text("# quizgen: question 52\n" + reference)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def check(reports, files: int) -> float:
    """Warns unless every file scored 100; returns the mean time a grading took (``Report.seconds``)."""
    scores = sorted({r.score for r in reports})
    if len(reports) != files or scores != [100.0]:
        print(f"  warning: expected {files} reports of 100, got {len(reports)} with scores {scores}")
    return statistics.mean(r.seconds for r in reports)


def bench_local(folder: Path, bank, parallel: int, repeats: int) -> tuple[float, list[float], list[float]]:
    from quizgen.grading.batch import collect
    from quizgen.grading.runner import grade_many, grading_launcher

    jobs = [e.checked for e in collect(folder, bank, 52) if e.checked]
    start = time.perf_counter()
    with grading_launcher([folder.resolve()]) as launcher:
        launcher.isolation  # noqa: B018 - waits for the launcher (torch imported)
        list(grade_many(jobs[:parallel], launcher, parallel=parallel))  # warm: preloads, first forks
        started = time.perf_counter() - start
        walls, each = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            reports = list(grade_many(jobs, launcher, parallel=parallel))
            walls.append(time.perf_counter() - t0)
            each.append(check(reports, len(jobs)))
    return started, walls, each


def bench_dask(folder: Path, bank, workers: int, repeats: int) -> tuple[float, list[float], list[float]]:
    from quizgen.grading.batch import collect
    from quizgen.grading.cluster import check_workers, cluster_client, grade_on_cluster, grade_on_worker

    entries = collect(folder, bank, 52)
    hidden = [str(folder.resolve())]
    start = time.perf_counter()
    with cluster_client(workers=workers) as client:
        addresses = sorted(check_workers(client, hidden, allow_degraded=False))
        warm = [client.submit(grade_on_worker, "warm.py", entries[0].checked.source, 52, "cpu", None, hidden, False,
                              workers=[a], allow_other_workers=False, pure=False) for a in addresses]
        client.gather(warm)
        started = time.perf_counter() - start
        walls, each = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            reports = list(grade_on_cluster(client, folder, entries, 52))
            walls.append(time.perf_counter() - t0)
            each.append(check(reports, len(entries)))
    return started, walls, each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10, help="students in the class (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="timed gradings of the class per setting")
    args = parser.parse_args()
    os.environ.setdefault("QUIZGEN_HOME", tempfile.mkdtemp(prefix="quizgen-bench-home-"))
    from quizgen.bank import load_bank

    bank = load_bank()
    print(f"grading {args.files} correct question-52 files; {os.cpu_count()} cores; {load()}")
    with tempfile.TemporaryDirectory(prefix="quizgen-bench-class-") as tmp:
        folder = Path(tmp)
        make_class(folder, args.files)
        paths = [("local pool", "parallel", bench_local)]
        try:
            import distributed  # noqa: F401

            paths.append(("dask LocalCluster", "workers", bench_dask))
        except ImportError:
            print("dask.distributed is not installed (pip install 'quizgen[cluster]'): the dask path is skipped")
        for label, knob, bench in paths:
            median, best = {}, {}
            for n in (1, 2):
                started, walls, each = bench(folder, bank, n, args.repeats)
                seconds = statistics.median(walls)
                median[n], best[n] = args.files / seconds, args.files / min(walls)
                print(f"{label:18} {knob} {n}: start-up {started:5.1f} s; grading {seconds:5.2f} s "
                      f"(runs {', '.join(f'{w:.2f}' for w in walls)}) = {median[n]:5.2f} files/s, best {best[n]:5.2f} "
                      f"({seconds / args.files:.2f} s per file; one grading takes {statistics.median(each):.2f} s)")
            efficiency = median[2] / (2 * median[1])
            verdict = "meets" if efficiency >= 0.85 else "misses"
            print(f"{label:18} parallel efficiency at 2: {efficiency:.0%} ({verdict} the 85% goal; "
                  f"{best[2] / (2 * best[1]):.0%} from the best runs); {load()}")

if __name__ == "__main__":
    main()
