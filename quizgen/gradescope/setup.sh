#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image; the zip is unpacked in
# /autograder/source. It makes a virtual environment with torch's CPU build and the quizgen wheel
# that came in the zip (grading needs no GPU, and the CPU build is a fraction of the CUDA one).
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Outside /autograder, which the sandbox hides from the student's code as a whole.
VENV="${QUIZGEN_AUTOGRADER_VENV:-/opt/quizgen-venv}"

PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PYTHON="$candidate"
        break
    fi
done
if [ -z "$PYTHON" ]; then
    # Gradescope's Ubuntu 22.04 image has Python 3.10; quizgen needs 3.11 or later.
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv
    PYTHON=python3.11
fi
if ! "$PYTHON" -m venv "$VENV"; then
    # Debian and Ubuntu ship venv's ensurepip as its own package.
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$("$PYTHON" -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
"$VENV/bin/python" -m pip install "$SOURCE"/quizgen-*.whl
"$VENV/bin/python" -c 'import quizgen, torch; print("quizgen", quizgen.__version__, "torch", torch.__version__)'
