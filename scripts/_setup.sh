# Sourced by demo.sh and test.sh: one virtualenv (.venv) with torch's CPU wheel and quizgen installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# The CPU build of torch (pyproject asks for torch>=2.10, which this satisfies without a CUDA download).
python -c "import torch" >/dev/null 2>&1 || python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[dev]"
