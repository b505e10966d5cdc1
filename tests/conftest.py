"""Every test gets its own QUIZGEN_HOME, so no test can touch a real progress database, and grades
in its own process unless it starts a grading server on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest
from _study_fixtures import toy_bank  # noqa: F401 - a small bank of every item kind, for any test

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def quizgen_home(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("quizgen-home")
    monkeypatch.setenv("QUIZGEN_HOME", str(home))
    monkeypatch.setenv("QUIZGEN_SERVER", "0")  # tests grade in their own process; tests/test_server.py turns it on
    return home


@pytest.fixture
def runner():
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture(scope="session")
def bank():
    from quizgen.bank import load_bank

    return load_bank()
