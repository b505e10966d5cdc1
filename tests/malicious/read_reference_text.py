"""Attack: open() the reference file as text and exec it."""
# quizgen: question 52
_namespace = {}
with open("__REFERENCE_PATH__") as _f:
    exec(_f.read(), _namespace)
route_top_k, load_balancing_loss, moe_forward = (_namespace[n] for n in ("route_top_k", "load_balancing_loss", "moe_forward"))
