"""Attack: put the solutions folder on sys.path and import the reference as a module."""
# quizgen: question 52
import importlib
import sys

sys.path.insert(0, "__SOLUTIONS_DIR__/52_moe")
_ref = importlib.import_module("reference")
route_top_k, load_balancing_loss, moe_forward = _ref.route_top_k, _ref.load_balancing_loss, _ref.moe_forward
