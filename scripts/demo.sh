#!/usr/bin/env bash
# The main job, from nothing: install, browse, take the MoE quiz, then grade the coding task's file.
#
#   ./scripts/demo.sh [FOLDER]
#
# Your files (moe.py) go to FOLDER, by default the folder you started the script from, and stay there.
# Progress goes to the user's data dir (QUIZGEN_HOME overrides it).
set -euo pipefail
work=$(mkdir -p -- "${1:-.}" && cd -- "${1:-.}" && pwd)
# shellcheck source=scripts/_setup.sh
. "$(dirname "$0")/_setup.sh"   # installs into .venv and activates it (it changes to the checkout)
cd -- "$work"

quiz list
quiz start --topic moe          # answer in the terminal (q stops); writes moe.py at the end
[ -f moe.py ] || quiz stub 52 -o moe.py

quiz submit moe.py || true       # graded in the sandbox; the untouched stub says "nothing implemented yet"
quiz progress

cat <<EOF

Your files are in $work:
  moe.py    implement route_top_k, load_balancing_loss and moe_forward
Carry on from there:
  cd $work
  quiz hint 52            one more hint (quiz hint 52 --all shows those so far)
  quiz submit moe.py      grade it; quiz watch moe.py grades again on every save
  quiz review             the concept items due for review
  quiz export --html moe.html --topic moe    a study sheet to read or print
(the quiz command is in $(dirname "$(command -v quiz)"); activate it with: . $(dirname "$(command -v quiz)")/activate)
EOF
