"""Attack: sleep forever, ignoring SIGTERM and SIGINT."""
# quizgen: question 52
import signal
import time

for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        signal.signal(_sig, signal.SIG_IGN)
    except Exception:
        pass


def route_top_k(router_logits, k, renormalize):
    time.sleep(10**9)


load_balancing_loss = moe_forward = route_top_k
