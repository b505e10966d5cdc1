"""Question 56 (parallelism): the communication-volume facts and the 2025-26 part of issue 12
(ring all-reduce cost, ZeRO-3 at 1.5x data parallelism, FSDP2, context and expert parallelism),
the systems-arithmetic items, and the design / spot-the-bug items."""


from bank_items import find_item

from quizgen.bank.arithmetic import evaluate
from quizgen.bank.models import BugItem, DesignItem, NumericItem


def _urls(q):
    return " ".join(str(r.url) for r in q.references)


def test_ring_allreduce_volume_is_2_n_minus_1_over_n(bank):
    q = bank.get(56)
    assert r"2\,\frac{N-1}{N}\,S" in q.answer
    assert "reduce-scatter" in q.answer and "all-gather" in q.answer
    assert "nccl-tests" in _urls(q) and "PERFORMANCE.md" in _urls(q)
    item = find_item(q, "ring-allreduce-bytes-per-gpu")
    n, size_gb = 8, 7e9 * 2 / 1e9
    assert item.unit == "GB" and item.accepts(2 * (n - 1) / n * size_gb)
    assert not item.accepts(2 * size_gb) and not item.accepts(size_gb)  # the (N-1)/N factor matters
    pitfall = next(p for p in q.pitfalls if "ring all-reduce" in p.claim.lower())
    assert "2(N-1)/N" in pitfall.correction and "latency" in pitfall.correction


def test_zero3_moves_one_and_a_half_times_the_data_parallel_volume(bank):
    q = bank.get(56)
    answer = " ".join(q.answer.split())
    assert r"$3\Psi$" in answer and "1.5× data parallelism" in answer and "§7" in answer
    assert "1910.02054" in _urls(q)
    zero3 = find_item(q, "zero3-bytes-per-gpu-per-step")
    ddp = 2 * (64 - 1) / 64 * 7e9 * 2 / 1e9
    assert zero3.accepts(1.5 * ddp)
    assert evaluate(zero3.derivation.expression) / ddp == 1.5
    pitfall = next(p for p in q.pitfalls if "ZeRO sharding is free" in p.claim)
    assert "1.5×" in pitfall.correction and r"$2\Psi$" in pitfall.correction


def test_2025_26_part_covers_fsdp2_context_and_expert_parallelism(bank):
    q = bank.get(56)
    answer = " ".join(q.answer.split())
    assert "**2025-26" in answer
    for term in ("FSDP2", "fully_shard", "DTensor", "FlatParameter", "reshard_after_forward", "HSDP",
                 "sequence parallelism", "Context parallelism", "Ring Attention", "DeepSpeed-Ulysses",
                 "bounded by the number of heads", "Llama 3", "Expert parallelism", "all-to-all",
                 "DeepSeek-V3", "64-way EP", "DualPipe"):
        assert term in answer, term
    urls = _urls(q)
    for ref in ("2310.01889", "2309.14509", "2407.21783", "2006.16668", "2412.19437", "2410.06511",
                "distributed.fsdp.fully_shard", "2205.05198"):
        assert ref in urls, ref
    for r in q.references:
        assert r.title and r.authors and r.year


def test_systems_arithmetic_items_are_communication_volumes_in_gb(bank):
    q = bank.get(56)
    comm = [i for i in q.concepts if isinstance(i, NumericItem) and i.unit == "GB" and "send" in i.prompt]
    assert {i.id for i in comm} == {"ring-allreduce-bytes-per-gpu", "zero3-bytes-per-gpu-per-step"}
    for item in comm:
        assert item.accepts(evaluate(item.derivation.expression))


def test_near_identical_zero_stage_items_are_merged(bank):
    q = bank.get(56)
    ids = {i.id for i in q.concepts}
    assert "zero-stage2-bytes" not in ids and {"zero-stage3-bytes", "zero-stage-for-70b"} <= ids
    choice = find_item(q, "zero-stage-for-70b")
    right = next(o.text for o in choice.options if o.correct)
    assert "Stage 3" in right and "17.5 GB" in right and 16 * 70e9 / 64 / 1e9 == 17.5


def test_design_and_spot_the_bug_items(bank):
    q = bank.get(56)
    designs = [i for i in q.concepts if isinstance(i, DesignItem)]
    assert {d.id for d in designs} >= {"design-70b-pretraining-layout", "design-million-token-context",
                                       "design-moe-expert-placement"}
    for d in designs:
        assert 4 <= len(d.rubric) <= 6 and len(d.answer.split()) >= 60
    bug = next(i for i in q.concepts if isinstance(i, BugItem))
    assert "ReduceOp.AVG" in bug.lines[bug.bug_line - 1]
    assert "ReduceOp.SUM" in bug.explanation
