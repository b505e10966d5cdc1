#!/usr/bin/env bash
# The main job, from nothing: install, browse, take the MoE quiz, and grade a submission.
# Progress goes to the user's data dir (QUIZGEN_HOME overrides it).
. "$(dirname "$0")/_setup.sh"
work=$(mktemp -d)
cd "$work"
quiz list
quiz start --topic moe          # answer in the terminal (q stops); writes moe.py at the end
[ -f moe.py ] || quiz stub 52 -o moe.py
echo "--- grading the stub as written (implement it to score 100):"
quiz submit moe.py || true
quiz progress
echo "Your files are in $work"
