"""Forward and backward through a submission's function: the output and the gradients it produced.

params: ``requires_grad`` (argument positions, ints, or keyword names) and ``grad_output`` (a tensor,
or a list of tensors for a tuple output; None entries are skipped). The backward pass computes
sum(output * grad_output), so the trusted side can compare gradients with the reference's.
"""

from __future__ import annotations

import torch


def run(fn, args, kwargs, params: dict, tracer):
    args = list(args)
    wanted = params.get("requires_grad", [])
    leaves = {}
    for key in wanted:
        value = args[key] if isinstance(key, int) else kwargs[key]
        leaf = value.detach().requires_grad_(True)
        if isinstance(key, int):
            args[key] = leaf
        else:
            kwargs[key] = leaf
        leaves[key] = leaf
    with tracer:
        output = fn(*args, **kwargs)
    outputs = list(output) if isinstance(output, (tuple, list)) else [output]
    grad_outputs = params.get("grad_output")
    grad_outputs = list(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else [grad_outputs]
    loss = None
    for out, g in zip(outputs, grad_outputs):
        if g is None or not isinstance(out, torch.Tensor) or not out.requires_grad:
            continue
        term = (out * g.to(out.device, out.dtype)).sum()
        loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    grads = [None if leaves[k].grad is None else leaves[k].grad.detach() for k in wanted]
    return {"output": output, "grads": grads}
