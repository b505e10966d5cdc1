"""Question 57 (checkpointing): the segment-count item answers one question under the model it
states, the per-layer activation bytes, the 2025-26 part (selective activation checkpointing and
offloading), and a spot-the-bug snippet that really produces wrong gradients."""

import math

import torch
from bank_items import find_item

from quizgen.bank.arithmetic import evaluate
from quizgen.bank.models import BugItem, DesignItem


def test_optimal_segments_item_is_unambiguous_under_its_model(bank):
    item = find_item(bank.get(57), "optimal-segments-50")
    assert "k + 50/k" in item.prompt and "continuous" in item.prompt
    continuous = {k: k + 50 / k for k in range(1, 51)}
    best = min(continuous.values())
    assert [k for k, v in continuous.items() if v == best] == [int(item.answer)] == [7]
    # the whole-layer model ties from 5 to 10; the explanation says so instead of relying on it
    whole = {k: k + math.ceil(50 / k) for k in range(1, 51)}
    assert [k for k, v in whole.items() if v == min(whole.values())] == list(range(5, 11))
    assert "5 to 10" in item.explanation and "plateau" in item.explanation
    assert "7 + 8 = 15" not in item.explanation


def test_fixed_percentage_claim_stays_corrected(bank):
    q = bank.get(57)
    pitfall = next(p for p in q.pitfalls if "50–80%" in p.claim)
    assert "No constant applies" in pitfall.correction and "1604.06174" in " ".join(str(r.url) for r in q.references)


def test_per_layer_activation_bytes_follow_korthikanti(bank):
    q = bank.get(57)
    answer = " ".join(q.answer.split())
    assert r"sbh\Big(34 + \frac{5as}{h}\Big)" in answer and r"$34\,sbh/t$" in answer and r"$2\,sbh$" in answer
    assert "2205.05198" in " ".join(str(r.url) for r in q.references)
    s, b, h, a = 2048, 1, 12288, 96
    per_layer = s * b * h * (34 + 5 * a * s / h)
    gb = find_item(q, "gpt3-layer-activation-gb")
    assert gb.unit == "GB" and gb.accepts(per_layer / 1e9) and gb.accepts(2.87)
    share = find_item(q, "selective-recompute-share")
    assert share.unit == "%" and share.accepts(100 * 80 / 114)
    assert evaluate(share.derivation.expression) == evaluate("100 * 80 / 114")


def test_2025_26_part_covers_selective_checkpointing_and_offloading(bank):
    q = bank.get(57)
    answer = " ".join(q.answer.split())
    assert "**2025-26" in answer
    for term in ("create_selective_checkpoint_contexts", "MUST_SAVE", "PREFER_RECOMPUTE", "TorchTitan",
                 "memory-budget", "save_on_cpu", "pin_memory=True", "ZeRO-Offload", "MFU", "HFU"):
        assert term in answer, term
    urls = " ".join(str(r.url) for r in q.references)
    for ref in ("checkpoint.html", "save_on_cpu", "2410.06511", "2204.02311", "2101.06840"):
        assert ref in urls, ref
    # the APIs the answer names exist in the torch this project runs
    from torch.utils.checkpoint import CheckpointPolicy, create_selective_checkpoint_contexts  # noqa: F401

    assert {"MUST_SAVE", "PREFER_RECOMPUTE", "MUST_CPU_OFFLOAD"} <= set(CheckpointPolicy.__members__)
    assert hasattr(torch.autograd.graph, "save_on_cpu")


def test_late_binding_bug_snippet_gives_wrong_gradients_and_its_fix_is_exact(bank):
    bug = next(i for i in bank.get(57).concepts if isinstance(i, BugItem))
    assert bug.lines[bug.bug_line - 1].strip() == "def run_chunk(inp):"
    torch.manual_seed(0)
    layers = torch.nn.ModuleList(torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Tanh()) for _ in range(8))
    x = torch.randn(4, 8, requires_grad=True)

    def grad_of(forward):
        x.grad = None
        forward(x, layers, 4).sum().backward()
        return x.grad.clone()

    h = x
    for layer in layers:
        h = layer(h)
    plain = torch.autograd.grad(h.sum(), x)[0]
    buggy, fixed = {}, {}
    exec(bug.code, buggy)
    exec(bug.code.replace("def run_chunk(inp):", "def run_chunk(inp, idx=idx):"), fixed)
    assert not torch.allclose(grad_of(buggy["checkpointed_forward"]), plain)
    assert torch.allclose(grad_of(fixed["checkpointed_forward"]), plain)
    assert "idx=idx" in bug.explanation


def test_design_items_and_scenario_items(bank):
    q = bank.get(57)
    designs = [i for i in q.concepts if isinstance(i, DesignItem)]
    assert {d.id for d in designs} == {"design-long-context-oom", "design-selective-checkpoint-policy"}
    ids = {i.id for i in q.concepts}
    assert {"sac-policy-what-to-save", "offload-vs-recompute"} <= ids
    assert "chen-2016-result" not in ids  # the exact-paper-figures flashcard became a concept card
