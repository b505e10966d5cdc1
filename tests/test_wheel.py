"""The wheel carries the bank: questions, reference kernels, hidden suites and templates, and an
installed copy works from any folder."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
                   check=True, capture_output=True)
    return next(out.glob("quizgen-*.whl"))


def test_wheel_contains_the_bundled_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for qid, slug in [(52, "moe"), (58, "flash-attention"), (65, "serving")]:
        assert f"quizgen/_bundled/questions/{qid}-{slug}.yaml" in names
        folder = f"quizgen/_bundled/solutions/{qid}_{slug.replace('-', '_')}"
        assert f"{folder}/reference.py" in names and f"{folder}/test_hidden.py" in names
    assert any(n.startswith("quizgen/_bundled/templates/") for n in names)
    assert "quizgen/cli/__init__.py" in names and "quizgen/sandbox/harnesses/grad.py" in names
    assert "quizgen/_bundled/solutions/52_moe/wrong/never_renormalize.py" in names


def test_installed_wheel_lists_the_bank_from_another_folder(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = (f"import sys; sys.path.insert(0, {str(target)!r}); import quizgen.paths as p; print(p.bundled_root()); "
            "from quizgen.cli import main; sys.argv = ['quiz', 'list', '--json']; main()")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env=os.environ | {"PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr
    first, _, rest = result.stdout.partition("\n")
    assert first == str(target / "quizgen" / "_bundled")
    assert rest.count('"slug"') == 15
