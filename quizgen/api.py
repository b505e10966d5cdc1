"""The Python API behind notebooks, Gradescope and clusters: grade a source string as a question's
submission, through the same sandbox as ``quiz submit``.

    >>> import quizgen
    >>> report = quizgen.grade(open("moe.py").read(), question=52)
    >>> report.score, report.all_passed

One launcher (the forkserver that holds torch) is started on first use and kept for the life of the
process, so a notebook kernel or a cluster worker pays for torch's import once; it is closed at exit.
"""

from __future__ import annotations

import atexit
import threading
from pathlib import Path

from quizgen.grading.report import Report

_lock = threading.Lock()
_launcher = None
_hidden: frozenset[Path] = frozenset()  # the extra folders the current launcher hides


def shared_launcher(extra_hidden: list[Path] = ()):
    """This process's launcher, started on first use, hiding the solutions, the user's data and
    ``extra_hidden``. A launcher that does not hide every folder of ``extra_hidden`` is replaced by one
    that hides those and the earlier ones (a cluster worker that grades a second class hides both)."""
    global _launcher, _hidden
    wanted = frozenset(Path(p).resolve() for p in extra_hidden)
    with _lock:
        if _launcher is not None and (_launcher.process.poll() is not None or not wanted <= _hidden):
            atexit.unregister(_launcher.close)
            _launcher.close()
            _launcher = None
        if _launcher is None:
            from quizgen.grading.client import Launcher
            from quizgen.grading.runner import hidden_paths

            _hidden = _hidden | wanted
            _launcher = Launcher(hide=hidden_paths(sorted(_hidden)))
            atexit.register(_launcher.close)
        return _launcher


def grade(source: str, question: int, *, device: str = "cpu", seed: int | None = None, record: bool = True,
          name: str = "submission.py") -> Report:
    """Grade ``source`` as the submission for ``question``; raises ``quizgen.errors.UnusableSubmission``
    (with file:line) when it cannot be graded. The attempt is recorded in the progress database
    unless ``record`` is false or nothing is implemented yet."""
    from quizgen.bank import load_bank
    from quizgen.grading.runner import grade_checked
    from quizgen.grading.static import check_source

    checked = check_source(source, name, load_bank(), question)
    report = grade_checked(checked, shared_launcher(), device=device, seed=seed)
    if record and report.gradable and not report.nothing_implemented:
        from quizgen.store import open_store

        open_store().record_attempt(report)
    return report
