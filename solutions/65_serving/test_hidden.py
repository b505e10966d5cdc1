"""Hidden suite for question 65 (serving). Runs in the trusted process; see quizgen.grading.suite.

The sizing functions are exact integer arithmetic (published per-token figures, and sizes beyond 2**53
where float arithmetic is no longer exact). Paged attention is checked against an independent peer,
F.scaled_dot_product_attention (enable_gqa=True) on the K/V gathered into logical order, and against the
reference, on non-contiguous block tables, context lengths that are not a multiple of the block size,
GQA/MQA/MHA head layouts, block size 1 and tables longer than needed. Every slot the sequence does not
own (the tail of its last block, physical blocks its table does not reach) holds large finite garbage,
so reading any of them changes the result by orders of magnitude. Exact invariants: relabelling the
physical blocks, or changing the garbage, leaves the output unchanged; query head h reads KV head
h // (H // Hkv). Every tensor input also arrives non-contiguous: q column-major, the caches in vLLM's own
layout [num_blocks, Hkv, block_size, D] permuted to [num_blocks, block_size, Hkv, D], the block table strided.
A failure whose answers match a known mistake is named by the grader (from the task's known-wrong files).
"""

import math

import pytest
import torch
import torch.nn.functional as F

from quizgen.grading.suite import (
    FLOAT_DTYPES,
    assert_close,
    assert_number,
    describe,
    expect_value_error,
    explained,
    non_contiguous,
    points,
    randn,
)

GARBAGE = 1e3


# -- kv_cache_bytes -----------------------------------------------------------------------------------------

KV_CASES = {
    # (n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_el): what it is
    (40, 40, 128, 1, 1, 2): "OPT-13B-like (40 layers, 40 heads x 128 = 5120 wide, fp16), one token: 819,200 bytes",
    (80, 8, 128, 1, 1, 2): "Llama-2-70B (80 layers, GQA with 8 KV heads of 128), one token: 327,680 bytes",
    (80, 8, 128, 4096, 8, 2): "Llama-2-70B, 4096 tokens x batch 8 (10 GiB)",
    (32, 8, 128, 32768, 1, 2): "Mistral-7B-like (32 layers, 8 KV heads), a 32k context (4 GiB)",
    (12, 12, 64, 1024, 3, 4): "GPT-2-small-like in fp32, batch 3",
    (1, 1, 1, 1, 1, 1): "one layer, one head, one element: one K and one V, 2 bytes",
    (95, 7, 129, 10_000_019, 9_973, 3): "odd sizes whose byte count passes 2**53 (float arithmetic is no longer exact there)",
}


@points(10)
@pytest.mark.parametrize("n_layers,n_kv_heads,head_dim,seq_len,batch,bytes_per_el", list(KV_CASES))
def test_kv_cache_bytes_known_values(submission, n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_el):
    args = (n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_el)
    expected = 2 * n_layers * n_kv_heads * head_dim * seq_len * batch * bytes_per_el
    got = submission.kv_cache_bytes(*args)
    with explained(f"{KV_CASES[args]}: 2 (K and V) * n_layers * n_kv_heads * head_dim * seq_len * batch * "
                   "bytes_per_el, counting the KV heads (not the query heads), as an exact int"):
        assert_number(got, expected, integer=True, name=f"kv_cache_bytes{args}")


@points(5)
def test_kv_cache_bytes_random_sizes(submission, rng):
    for _ in range(10):
        args = [int(x) for x in torch.randint(1, 200, (6,), generator=rng)]
        expected = 2 * math.prod(args)
        got = submission.kv_cache_bytes(*args)
        with explained("2 * n_layers * n_kv_heads * head_dim * seq_len * batch * bytes_per_el"):
            assert_number(got, expected, integer=True, name=f"kv_cache_bytes{tuple(args)}")


# -- blocks_needed ------------------------------------------------------------------------------------------

@points(8)
@pytest.mark.parametrize("seq_lens,block_size,expected", [
    ([37, 16, 1, 0, 100], 16, 12),   # 3 + 1 + 1 + 0 + 7
    ([15], 16, 1),
    ([16], 16, 1),
    ([17], 16, 2),
    ([], 16, 0),
    ([5, 5, 5], 1, 15),
    ([1000, 3], 7, 143 + 1),
    ([9, 9, 9, 9], 8, 8),            # one ceil over the sum (36 / 8) would give 5
    ([32, 48, 0], 16, 5),            # exact multiples: (len + block_size) // block_size would give 3 + 4 + 1
])
def test_blocks_needed_known_values(submission, seq_lens, block_size, expected):
    got = submission.blocks_needed(list(seq_lens), block_size)
    per_sequence = [-(-length // block_size) for length in seq_lens]
    with explained(f"each sequence needs its own ceil(len / block_size) blocks: {per_sequence} (a partly filled "
                    "last block is still a whole block, and blocks are never shared between sequences)"):
        assert_number(got, expected, integer=True, name=f"blocks_needed({seq_lens}, {block_size})")


@points(5)
def test_blocks_needed_random_batches(submission, rng):
    for _ in range(8):
        block_size = int(torch.randint(1, 40, (1,), generator=rng))
        seq_lens = [int(x) for x in torch.randint(0, 300, (int(torch.randint(1, 12, (1,), generator=rng)),),
                                                   generator=rng)]
        expected = sum(math.ceil(length / block_size) for length in seq_lens)
        got = submission.blocks_needed(seq_lens, block_size)
        with explained("the sum over sequences of ceil(len / block_size)"):
            assert_number(got, expected, integer=True, name=f"blocks_needed({seq_lens}, {block_size})")


# -- paged_decode_attention ---------------------------------------------------------------------------------

def _paged_case(rng, H, Hkv, D, block_size, context_len, table_len, num_blocks, dtype):
    """A paged cache: the sequence's K/V scattered into the blocks of a random table, garbage everywhere else."""
    table = torch.randperm(num_blocks, generator=rng)[:table_len].to(torch.int64)
    k_logical = randn(rng, context_len, Hkv, D)
    v_logical = randn(rng, context_len, Hkv, D)
    k_cache = randn(rng, num_blocks, block_size, Hkv, D, scale=GARBAGE)
    v_cache = randn(rng, num_blocks, block_size, Hkv, D, scale=GARBAGE)
    t = torch.arange(context_len)
    k_cache[table[t // block_size], t % block_size] = k_logical
    v_cache[table[t // block_size], t % block_size] = v_logical
    q = randn(rng, H, D)
    return (q.to(dtype), k_cache.to(dtype), v_cache.to(dtype), table, context_len), (k_logical.to(dtype),
                                                                                      v_logical.to(dtype))


def _sdpa_peer(q, k_logical, v_logical):
    """torch's own attention over the contiguous logical K/V: [H, D] in float64."""
    out = F.scaled_dot_product_attention(q.double()[None, :, None, :], k_logical.double().transpose(0, 1)[None],
                                         v_logical.double().transpose(0, 1)[None], enable_gqa=True)
    return out[0, :, 0, :]


def _tolerances(dtype):
    """float32: the dtype's defaults, a little loose (another summation order is fine). float64: 1e-10, far
    above float64 rounding in any order but below what a float32 detour inside the kernel costs."""
    return {"loose": 4.0} if dtype == torch.float32 else {"rtol": 1e-10, "atol": 1e-10}


def _inputs(args):
    q, k_cache, v_cache, table, context_len = args
    return f"({describe(q=q, k_cache=k_cache, v_cache=v_cache, block_table=table, context_len=context_len)})"


def _check_paged(out, args, expected, peer, what):
    dtype = args[0].dtype
    with explained(what):
        assert_close(out, expected, name="attention output", context=_inputs(args), **_tolerances(dtype))
        assert_close(out, peer.to(dtype), name="attention output vs F.scaled_dot_product_attention",
                     context=_inputs(args), **_tolerances(dtype))


@points(16)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_paged_decode_attention_block_table_7_2_5(submission, reference, rng, dtype):
    """The fact base's case: blocks [7, 2, 5] of 16 slots, 37 tokens (5 in the last block), H = 8, Hkv = 2."""
    H, Hkv, D, bs = 8, 2, 16, 16
    table = torch.tensor([7, 2, 5])
    k_logical, v_logical = randn(rng, 37, Hkv, D), randn(rng, 37, Hkv, D)
    k_cache = randn(rng, 9, bs, Hkv, D, scale=GARBAGE)
    v_cache = randn(rng, 9, bs, Hkv, D, scale=GARBAGE)
    t = torch.arange(37)
    k_cache[table[t // bs], t % bs] = k_logical
    v_cache[table[t // bs], t % bs] = v_logical
    q = randn(rng, H, D)
    args = (q.to(dtype), k_cache.to(dtype), v_cache.to(dtype), table, 37)
    out = submission.paged_decode_attention(*args)
    peer = _sdpa_peer(args[0], k_logical.to(dtype), v_logical.to(dtype))
    _check_paged(out, args, reference.paged_decode_attention(*args), peer,
                 "block_table [7, 2, 5], block 16, context_len 37: tokens 0-15 in block 7, 16-31 in block 2, "
                 "32-36 in slots 0-4 of block 5; H = 8 query heads over Hkv = 2 KV heads")


PAGED_CASES = [
    # (H, Hkv, D, block_size, context_len, table_len, num_blocks)
    (8, 2, 16, 16, 37, 3, 9),     # GQA, partial last block
    (4, 4, 8, 4, 13, 5, 8),       # MHA; the table has an unused trailing entry
    (6, 1, 32, 8, 8, 1, 3),       # MQA; context_len == block_size exactly
    (12, 3, 8, 16, 1, 2, 4),      # a single token
    (8, 4, 16, 1, 9, 9, 12),      # block size 1
    (16, 2, 64, 32, 100, 4, 6),   # long head dim, 100 of 128 slots
    (2, 2, 4, 5, 25, 5, 7),       # the table's full capacity
]


@points(26)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("H,Hkv,D,block_size,context_len,table_len,num_blocks", PAGED_CASES)
def test_paged_decode_attention_matches_sdpa_and_reference(submission, reference, rng, H, Hkv, D, block_size,
                                                           context_len, table_len, num_blocks, dtype):
    args, (k_logical, v_logical) = _paged_case(rng, H, Hkv, D, block_size, context_len, table_len, num_blocks, dtype)
    out = submission.paged_decode_attention(*args)
    _check_paged(out, args, reference.paged_decode_attention(*args), _sdpa_peer(args[0], k_logical, v_logical),
                 f"block_table={args[3].tolist()}: token t lives in block block_table[t // {block_size}], slot "
                 f"t % {block_size}; attend to the first {context_len} tokens only; query head h reads KV head "
                 f"h // {H // Hkv}")


@points(8)
@pytest.mark.parametrize("H,Hkv", [(8, 2), (6, 3), (4, 1)])
def test_paged_decode_attention_query_head_reads_kv_head_h_div_group(submission, rng, H, Hkv):
    # V is constant over tokens within each KV head, so head h's output is exactly that constant, whatever the weights.
    D, bs, context_len = 4, 4, 10
    args, _ = _paged_case(rng, H, Hkv, D, bs, context_len, 3, 5, torch.float64)
    q, k_cache, v_cache, table, _ = args
    constants = torch.arange(1.0, Hkv + 1, dtype=torch.float64)[:, None] * torch.tensor([1.0, -2.0, 3.0, 0.5],
                                                                                         dtype=torch.float64)
    t = torch.arange(context_len)
    v_cache[table[t // bs], t % bs] = constants
    out = submission.paged_decode_attention(q, k_cache, v_cache, table, context_len)
    expected = constants[torch.arange(H) // (H // Hkv)]
    with explained(f"query head h must read KV head h // (H // Hkv) = {(torch.arange(H) // (H // Hkv)).tolist()} "
                   "(repeat_interleave, not .repeat); each KV head's V rows are one constant vector here, so head h's "
                   "output is that vector"):
        assert_close(out, expected, name="attention output", **_tolerances(torch.float64),
                     context=_inputs((q, k_cache, v_cache, table, context_len)))


@points(7)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_paged_decode_attention_ignores_physical_layout_and_garbage(submission, rng, dtype):
    H, Hkv, D, bs, context_len, num_blocks = 8, 2, 8, 8, 21, 7
    args, _ = _paged_case(rng, H, Hkv, D, bs, context_len, 4, num_blocks, dtype)
    q, k_cache, v_cache, table, _ = args
    first = submission.paged_decode_attention(*args)
    # Move every physical block elsewhere and rewrite the table to match; refill everything unused.
    perm = torch.randperm(num_blocks, generator=rng)
    new_k = randn(rng, num_blocks, bs, Hkv, D, scale=GARBAGE).to(dtype)
    new_v = randn(rng, num_blocks, bs, Hkv, D, scale=GARBAGE).to(dtype)
    t = torch.arange(context_len)
    new_table = perm[table]
    new_k[new_table[t // bs], t % bs] = k_cache[table[t // bs], t % bs]
    new_v[new_table[t // bs], t % bs] = v_cache[table[t // bs], t % bs]
    second = submission.paged_decode_attention(q, new_k, new_v, new_table, context_len)
    with explained(f"the same 21 tokens under block table {new_table.tolist()} instead of {table.tolist()}, with fresh "
                   "garbage in every slot the sequence does not own: paged attention reads tokens through the table "
                   "only, and only the first context_len of them"):
        assert_close(second, first, name="output after relabelling the physical blocks", **_tolerances(dtype),
                     context=_inputs((q, new_k, new_v, new_table, context_len)))


@points(4)
@pytest.mark.parametrize("H,Hkv", [(6, 4), (8, 3)])
def test_paged_decode_attention_rejects_H_not_a_multiple_of_Hkv(submission, rng, H, Hkv):
    args, _ = _paged_case(rng, Hkv, Hkv, 8, 4, 10, 3, 6, torch.float32)  # caches with Hkv heads; q gets H heads
    _, k_cache, v_cache, table, _ = args
    with expect_value_error("q", "k_cache", "v_cache", "H", "Hkv"):  # the condition involves q and the caches
        submission.paged_decode_attention(randn(rng, H, 8, dtype=torch.float32), k_cache, v_cache, table, 10)


@points(6)
@pytest.mark.parametrize("context_len", [0, -3, 13, 40])
def test_paged_decode_attention_rejects_context_len_outside_1_to_capacity(submission, rng, context_len):
    args, _ = _paged_case(rng, 8, 2, 8, 4, 10, 3, 6, torch.float32)  # 3 table entries x 4 slots: capacity 12
    q, k_cache, v_cache, table, _ = args
    with expect_value_error("context_len", "block_table", "k_cache", "block_size"):
        submission.paged_decode_attention(q, k_cache, v_cache, table, context_len)


def _vllm_layout(cache):
    """The same cache stored as vLLM does, [num_blocks, Hkv, block_size, D], seen as [num_blocks, block_size, Hkv, D]."""
    return cache.permute(0, 2, 1, 3).contiguous().permute(0, 2, 1, 3)


@points(5)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_paged_decode_attention_non_contiguous_inputs(submission, reference, rng, dtype):
    args, (k_logical, v_logical) = _paged_case(rng, 8, 2, 16, 8, 21, 4, 7, dtype)
    q, k_cache, v_cache, table, context_len = args
    strided = (non_contiguous(q), _vllm_layout(k_cache), _vllm_layout(v_cache), non_contiguous(table), context_len)
    out = submission.paged_decode_attention(*strided)
    _check_paged(out, strided, reference.paged_decode_attention(*args), _sdpa_peer(q, k_logical, v_logical),
                 "q arrives column-major, the caches in vLLM's [num_blocks, Hkv, block_size, D] storage permuted to "
                 "[num_blocks, block_size, Hkv, D], the block table strided: the same values, so the same output "
                 "(k_cache.view(-1, Hkv, D) raises on such a cache; index it, or use .reshape)")
