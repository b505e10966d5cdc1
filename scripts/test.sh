#!/usr/bin/env bash
# Every check CI runs: install (with the dev extra), then the test suite, which includes `quiz validate`.
. "$(dirname "$0")/_setup.sh"
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # For the study-sheet test that renders the HTML in a headless browser (skipped where it is missing).
    (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 || echo "chromium not installed; its test will be skipped"
fi
# tests/test_validate.py runs `quiz validate` over the whole bank.
python -m pytest -q -rs
