"""Where quizgen finds its bundled data and keeps the user's data.

One helper serves both layouts: an installed wheel carries questions/, solutions/ and templates/
under ``quizgen/_bundled/``; a source checkout (editable install) has them at the repository root.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import platformdirs

_PACKAGE_DIR = Path(__file__).resolve().parent
HOME_ENV = "QUIZGEN_HOME"


@cache
def bundled_root() -> Path:
    """The folder holding questions/, solutions/ and templates/."""
    for candidate in (_PACKAGE_DIR / "_bundled", _PACKAGE_DIR.parent):
        if (candidate / "questions").is_dir():
            return candidate
    raise FileNotFoundError(f"quizgen's bundled questions/ folder is missing (looked beside {_PACKAGE_DIR})")


def questions_dir() -> Path:
    return bundled_root() / "questions"


def solutions_dir() -> Path:
    return bundled_root() / "solutions"


def templates_dir() -> Path:
    return bundled_root() / "templates"


def user_home() -> Path:
    """The user's data folder: ``$QUIZGEN_HOME`` when set, else the platform's user data dir."""
    override = os.environ.get(HOME_ENV)
    home = Path(override) if override else Path(platformdirs.user_data_dir("quizgen", appauthor=False))
    home.mkdir(parents=True, exist_ok=True)
    return home


def database_path() -> Path:
    return user_home() / "progress.db"
