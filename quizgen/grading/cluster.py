"""Grading a class on a dask.distributed cluster (`quiz grade-batch DIR --scheduler ADDRESS | --workers K`).

The client checks the class folder as the local path does (``quizgen.grading.batch.collect``), then
sends each student's (name, source) to a task. The task runs in a dask worker process, which grades
it exactly as ``quiz submit`` would: static check, then the hidden suite in a forked trusted process
whose submission proxy talks to a sandboxed worker of that process's own warm launcher
(``quizgen.api.shared_launcher``, started once per dask worker). Neither the client nor the dask
worker imports or runs the submission. A report comes back as JSON and is rebuilt with
``Report.model_validate``; rows, summary.csv and results.json are then ``batch.ClassResults``'s.

Every dask worker must have quizgen (the same version) and torch installed. Start workers with one
thread each (``dask worker ADDRESS --nthreads 1 --nworkers K``): one grading per core.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from quizgen.errors import QuizgenError
from quizgen.grading.batch import (
    DegradedIsolation,
    Entry,
    in_folder_order,
    require_strong,
)
from quizgen.grading.report import Report
from quizgen.wire import Isolation

CONNECT_TIMEOUT_S = 30
WORKERS_TIMEOUT_S = 120  # for a scheduler that has no worker yet
_fork_lock = threading.Lock()  # a multi-threaded dask worker forks one grading process at a time


class ClusterUnavailable(QuizgenError):
    """dask.distributed is missing, or the scheduler cannot be reached."""


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ClusterUnavailable("grading on a dask cluster needs dask.distributed: "
                                 "pip install 'quizgen[cluster]'") from None
    return distributed


@contextlib.contextmanager
def cluster_client(scheduler: str | None = None, workers: int | None = None):
    """A client of the cluster at ``scheduler``, or of a LocalCluster of ``workers`` processes (one
    thread each) that lives as long as the ``with``."""
    distributed = _distributed()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterUnavailable(f"cannot reach the dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as client:
        yield client


# -- what runs in a dask worker process ------------------------------------------------------------

def _this_worker() -> str:
    with contextlib.suppress(Exception):
        return f"on dask worker {_distributed().get_worker().address}"
    return "in this process"


def worker_isolation(extra_hidden: list[str]) -> dict:
    """Start (or reuse) this worker's launcher and say which walls it built."""
    from quizgen.api import shared_launcher

    return shared_launcher([Path(p) for p in extra_hidden]).isolation.to_dict()


def grade_on_worker(name: str, source: str, question_id: int, device: str, seed: int | None,
                    extra_hidden: list[str], allow_degraded: bool) -> dict:
    """Grade one student's source with this worker's warm launcher; the report as JSON."""
    from quizgen.api import shared_launcher
    from quizgen.bank import load_bank
    from quizgen.errors import UnusableSubmission
    from quizgen.grading.runner import start_grading
    from quizgen.grading.static import check_source

    launcher = shared_launcher([Path(p) for p in extra_hidden])
    require_strong(launcher.isolation, allow_degraded, where=_this_worker())  # also a worker that joined late
    try:
        checked = check_source(source, name, load_bank(), question_id)
    except UnusableSubmission as exc:
        return Report(question_id=question_id, file=name, gradable=False, message=str(exc), isolation="not run",
                      device=device, seed=seed).model_dump(mode="json")
    with _fork_lock:
        pending = start_grading(checked, launcher, device=device, seed=seed)
    return pending.wait().model_dump(mode="json")


# -- the client's side -----------------------------------------------------------------------------

def check_workers(client, extra_hidden: list[str], allow_degraded: bool) -> dict[str, Isolation]:
    """Start every worker's launcher (in parallel: this is the warm-up) and refuse the degraded mode
    unless ``allow_degraded``; returns each worker's isolation."""
    client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    addresses = sorted(client.nthreads())
    futures = [client.submit(worker_isolation, extra_hidden, workers=[a], allow_other_workers=False, pure=False)
               for a in addresses]
    isolations = {a: Isolation.from_dict(f.result()) for a, f in zip(addresses, futures)}
    for address, isolation in isolations.items():
        require_strong(isolation, allow_degraded, where=f"on dask worker {address}")
    return isolations


def _report(future, name: str, question_id: int, device: str, seed: int | None) -> Report:
    try:
        return Report.model_validate(future.result())
    except DegradedIsolation:
        raise
    except Exception as exc:  # noqa: BLE001 - a lost worker costs this student's grade, not the class's
        return Report(question_id=question_id, file=name, gradable=False, isolation="not run", device=device,
                      seed=seed, message=f"grader error on the cluster ({type(exc).__name__}: {exc}); "
                                         "the file was not graded")


def _in_submission_order(distributed, futures: list, names: list[str], question_id: int, device: str,
                         seed: int | None) -> Iterator[Report]:
    """Each future's report, in the order given, each as soon as it and those before it are done."""
    position = {f.key: i for i, f in enumerate(futures)}
    done: dict[int, object] = {}
    following = 0
    for future in distributed.as_completed(futures):
        done[position[future.key]] = future
        while following in done:
            yield _report(done.pop(following), names[following], question_id, device, seed)
            following += 1


def grade_on_cluster(client, folder: Path, entries: list[Entry], question_id: int, *, device: str = "cpu",
                     seed: int | None = None, allow_degraded: bool = False) -> Iterator[Report]:
    """Yield each entry's report in the entries' order (``collect``'s: file-name order), as the local path does."""
    distributed = _distributed()
    hidden = [str(folder.resolve())]
    check_workers(client, hidden, allow_degraded)
    checked = [e for e in entries if e.checked]
    run = secrets.token_hex(4)
    futures = [client.submit(grade_on_worker, e.name, e.checked.source, question_id, device, seed, hidden,
                             allow_degraded, key=f"quizgen-grade-{run}-{i}") for i, e in enumerate(checked)]
    try:
        graded: Iterable[Report] = _in_submission_order(distributed, futures, [e.name for e in checked], question_id,
                                                        device, seed)
        yield from in_folder_order(entries, graded, question_id, device=device, seed=seed)
    finally:
        client.cancel(futures)
