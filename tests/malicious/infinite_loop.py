"""Attack: never return."""
# quizgen: question 52


def route_top_k(router_logits, k, renormalize):
    while True:
        pass


load_balancing_loss = moe_forward = route_top_k
