"""Validate the reference of question 65 (KV-cache sizing, paged attention) against independent peers.

Peers: F.scaled_dot_product_attention with enable_gqa=True on the K/V gathered into logical order (torch's
own GQA head mapping), a scalar loop over tokens and heads written from the definition, published
per-token KV sizes, and math.ceil for the block count.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from quizgen.bank import load_bank
from quizgen.grading.task import Task


@pytest.fixture(scope="module")
def ref():
    return Task.of(load_bank().get(65)).load_reference()


def _paged(gen, H, Hkv, D, bs, context_len, table_len, num_blocks, garbage=1e3):
    table = torch.randperm(num_blocks, generator=gen)[:table_len]
    k = torch.randn(context_len, Hkv, D, generator=gen, dtype=torch.float64)
    v = torch.randn(context_len, Hkv, D, generator=gen, dtype=torch.float64)
    k_cache = garbage * torch.randn(num_blocks, bs, Hkv, D, generator=gen, dtype=torch.float64)
    v_cache = garbage * torch.randn(num_blocks, bs, Hkv, D, generator=gen, dtype=torch.float64)
    t = torch.arange(context_len)
    k_cache[table[t // bs], t % bs] = k
    v_cache[table[t // bs], t % bs] = v
    q = torch.randn(H, D, generator=gen, dtype=torch.float64)
    return q, k_cache, v_cache, table, k, v


CASES = [(8, 2, 16, 16, 37, 3, 9), (4, 4, 8, 4, 13, 5, 8), (6, 1, 32, 8, 8, 1, 3), (12, 3, 8, 16, 1, 2, 4),
         (8, 4, 16, 1, 9, 9, 12), (16, 2, 64, 32, 100, 4, 6), (2, 2, 4, 5, 25, 5, 7)]


@pytest.mark.parametrize("H,Hkv,D,bs,context_len,table_len,num_blocks", CASES)
def test_paged_decode_attention_matches_sdpa_on_the_gathered_cache(ref, H, Hkv, D, bs, context_len, table_len,
                                                                    num_blocks):
    gen = torch.Generator().manual_seed(H * 1000 + context_len)
    q, k_cache, v_cache, table, k, v = _paged(gen, H, Hkv, D, bs, context_len, table_len, num_blocks)
    out = ref.paged_decode_attention(q, k_cache, v_cache, table, context_len)
    peer = F.scaled_dot_product_attention(q[None, :, None, :], k.transpose(0, 1)[None], v.transpose(0, 1)[None],
                                          enable_gqa=True)[0, :, 0, :]
    assert out.shape == (H, D) and out.dtype == torch.float64
    torch.testing.assert_close(out, peer, rtol=1e-12, atol=1e-12)


def test_paged_decode_attention_matches_a_scalar_loop_over_tokens(ref):
    gen = torch.Generator().manual_seed(5)
    H, Hkv, D, bs, context_len = 6, 2, 4, 3, 8
    q, k_cache, v_cache, table, _, _ = _paged(gen, H, Hkv, D, bs, context_len, 4, 6)
    out = ref.paged_decode_attention(q, k_cache, v_cache, table, context_len)
    for h in range(H):
        kv = h // (H // Hkv)
        scores = []
        for t in range(context_len):
            block, slot = int(table[t // bs]), t % bs
            scores.append(sum(float(q[h, d]) * float(k_cache[block, slot, kv, d]) for d in range(D)) / math.sqrt(D))
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        total = sum(weights)
        for d in range(D):
            expected = sum(w * float(v_cache[int(table[t // bs]), t % bs, kv, d]) for t, w in enumerate(weights)) / total
            assert math.isclose(float(out[h, d]), expected, rel_tol=1e-10, abs_tol=1e-12)


def test_paged_decode_attention_with_identity_table_is_plain_gqa_attention(ref):
    gen = torch.Generator().manual_seed(9)
    H, Hkv, D, bs, blocks = 8, 2, 8, 4, 5
    k_cache = torch.randn(blocks, bs, Hkv, D, generator=gen, dtype=torch.float64)
    v_cache = torch.randn(blocks, bs, Hkv, D, generator=gen, dtype=torch.float64)
    q = torch.randn(H, D, generator=gen, dtype=torch.float64)
    out = ref.paged_decode_attention(q, k_cache, v_cache, torch.arange(blocks), blocks * bs)
    k = k_cache.reshape(-1, Hkv, D).transpose(0, 1).repeat_interleave(H // Hkv, 0)  # [H, T, D]
    v = v_cache.reshape(-1, Hkv, D).transpose(0, 1).repeat_interleave(H // Hkv, 0)
    weights = torch.softmax((k @ q[:, :, None])[..., 0] / math.sqrt(D), -1)  # [H, T]
    torch.testing.assert_close(out, (weights[:, None, :] @ v)[:, 0, :], rtol=1e-12, atol=1e-12)


def test_paged_decode_attention_keeps_float32_and_rejects_bad_arguments(ref):
    gen = torch.Generator().manual_seed(1)
    q, k_cache, v_cache, table, _, _ = _paged(gen, 4, 2, 8, 4, 10, 3, 5)
    out = ref.paged_decode_attention(q.float(), k_cache.float(), v_cache.float(), table, 10)
    assert out.dtype == torch.float32
    for bad in (0, -1, 13):
        with pytest.raises(ValueError, match="context_len"):
            ref.paged_decode_attention(q, k_cache, v_cache, table, bad)
    ref.paged_decode_attention(q, k_cache, v_cache, table, 12)  # the full table is allowed
    with pytest.raises(ValueError, match=r"\bq\b|k_cache|Hkv"):
        ref.paged_decode_attention(torch.randn(3, 8, dtype=torch.float64), k_cache, v_cache, table, 10)


@pytest.mark.parametrize("args,per_token", [
    ((40, 40, 128, 1, 1, 2), 819_200),   # OPT-13B-like, fp16: about 800 KB per token
    ((80, 8, 128, 1, 1, 2), 327_680),    # Llama-2-70B, GQA with 8 KV heads
])
def test_kv_cache_bytes_matches_published_per_token_sizes(ref, args, per_token):
    assert ref.kv_cache_bytes(*args) == per_token
    n_layers, n_kv_heads, head_dim, _, _, bytes_per_el = args
    got = ref.kv_cache_bytes(n_layers, n_kv_heads, head_dim, 4096, 8, bytes_per_el)
    assert type(got) is int and got == per_token * 4096 * 8


def test_kv_cache_bytes_stays_exact_past_2_53(ref):
    args = (95, 7, 129, 10_000_019, 9_973, 3)
    assert ref.kv_cache_bytes(*args) == 2 * math.prod(args) > 2**53


def test_blocks_needed_is_a_ceil_per_sequence_with_waste_below_one_block(ref):
    gen = torch.Generator().manual_seed(2)
    for _ in range(200):
        block_size = int(torch.randint(1, 33, (1,), generator=gen))
        lens = torch.randint(0, 500, (int(torch.randint(0, 10, (1,), generator=gen)),), generator=gen).tolist()
        blocks = ref.blocks_needed(lens, block_size)
        assert type(blocks) is int and blocks == sum(math.ceil(n / block_size) for n in lens)
        assert 0 <= blocks * block_size - sum(lens) <= len(lens) * (block_size - 1)
    assert ref.blocks_needed([37], 16) == 3 and ref.blocks_needed([32], 16) == 2 and ref.blocks_needed([], 16) == 0


def test_reference_reads_vllm_layout_caches_and_strided_tables(ref):
    # vLLM stores [num_blocks, Hkv, block_size, D]; seen through a permute it is non-contiguous.
    g = torch.Generator().manual_seed(11)
    q = torch.randn(8, 16, generator=g, dtype=torch.float64)
    k = torch.randn(7, 8, 2, 16, generator=g, dtype=torch.float64)
    v = torch.randn(7, 8, 2, 16, generator=g, dtype=torch.float64)
    table = torch.tensor([3, 0, 6, 1])
    k_strided, v_strided = (c.permute(0, 2, 1, 3).contiguous().permute(0, 2, 1, 3) for c in (k, v))
    table_strided = torch.stack([table, torch.zeros_like(table)], -1)[:, 0]
    assert not (k_strided.is_contiguous() or table_strided.is_contiguous())
    want = ref.paged_decode_attention(q, k, v, table, 21)
    torch.testing.assert_close(ref.paged_decode_attention(q.T.contiguous().T, k_strided, v_strided, table_strided, 21),
                               want, rtol=0, atol=1e-14)
