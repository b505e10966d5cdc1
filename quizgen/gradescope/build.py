"""Build a Gradescope autograder zip for one question (`quiz gradescope 58 -o autograder.zip`).

The zip holds Gradescope's two scripts (``setup.sh``: a virtual environment with torch's CPU build and
quizgen; ``run_autograder``: ``python -m quizgen.gradescope.run``), the quizgen wheel they install
(it carries the questions, the reference kernels and the hidden suites), and ``quizgen-autograder.json``
naming the question. Gradescope unpacks it in ``/autograder/source``, which the sandbox then hides
from the student's code, together with the rest of ``/autograder``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from quizgen.errors import QuizgenError
from quizgen.paths import bundled_root

CONFIG_NAME = "quizgen-autograder.json"
SCRIPTS = ("setup.sh", "run_autograder")
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
_HERE = Path(__file__).resolve().parent


class AutograderError(QuizgenError):
    """The autograder zip cannot be built (no wheel, an unwritable output)."""


@dataclass(frozen=True)
class AutograderConfig:
    """What ``run_autograder`` grades: ``question``; ``file``, if set, is the one submission file graded
    (else every ``*.py``, the best one counting); ``visibility`` is Gradescope's for the tests."""

    question: int
    file: str | None = None
    visibility: str = "visible"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> AutograderConfig:
        data = json.loads(text)
        return cls(question=int(data["question"]), file=data.get("file") or None,
                   visibility=str(data.get("visibility", "visible")))


def source_tree() -> Path | None:
    """The checkout quizgen runs from (an editable install), or None for an installed wheel."""
    root = bundled_root()
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "quizgen"' in pyproject.read_text(encoding="utf-8"):
        return root
    return None


def build_wheel(out_dir: Path) -> Path:
    """Build quizgen's wheel from this checkout into ``out_dir`` (hatchling, no network)."""
    root = source_tree()
    if root is None:
        raise AutograderError("this quizgen is installed from a wheel, so there is no source to build one from: "
                              "pass that wheel with --wheel (pip download quizgen --no-deps gets it)")
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out_dir),
                             str(root)], check=False, capture_output=True, text=True)
    wheels = sorted(out_dir.glob("quizgen-*.whl"))
    if result.returncode != 0 or not wheels:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise AutograderError("building quizgen's wheel failed (it needs the dev extra's build and hatchling: "
                              f"pip install -e '.[dev]'): {' / '.join(tail)}")
    return wheels[-1]


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def write_autograder(output: Path, config: AutograderConfig, wheel: Path | None = None) -> Path:
    """Write the zip to ``output``; ``wheel`` is quizgen's wheel (built from this checkout when None)."""
    if config.visibility not in VISIBILITIES:
        raise AutograderError(f"visibility {config.visibility!r} is not one of Gradescope's: {', '.join(VISIBILITIES)}")
    with tempfile.TemporaryDirectory(prefix="quizgen-wheel-") as tmp:
        wheel = wheel or build_wheel(Path(tmp))
        if not wheel.is_file() or not wheel.name.startswith("quizgen-") or wheel.suffix != ".whl":
            raise AutograderError(f"{wheel}: not a quizgen wheel (quizgen-VERSION-py3-none-any.whl)")
        try:
            with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for name in SCRIPTS:  # executable: Gradescope runs them as they are
                    _add(archive, name, (_HERE / name).read_bytes(), 0o755)
                _add(archive, CONFIG_NAME, config.to_json().encode(), 0o644)
                _add(archive, wheel.name, wheel.read_bytes(), 0o644)
        except OSError as exc:
            raise AutograderError(f"cannot write {output}: {exc.strerror or exc}") from None
    return output
