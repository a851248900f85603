"""scaled_dot_product_attention: forward against a loop-by-loop definition (and PyTorch),
masks, first- and second-order gradient checks, dtypes and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan
import minigan.functional as F

from .conftest import fixture_settings, to_np
from .op_cases import attention_ref

sdpa = F.scaled_dot_product_attention


plain_attention = attention_ref   # the op table's definition, one query at a time


def T(a, device, requires_grad=False):
    return minigan.tensor(np.asarray(a), device=device, requires_grad=requires_grad,
                          dtype=None if np.asarray(a).dtype == bool else "float64")


@fixture_settings(15)
@given(batch=st.sampled_from([(), (2,), (2, 1), (1, 3)]), L=st.integers(1, 4),
       S=st.integers(1, 4), E=st.integers(1, 3), Ev=st.integers(1, 3),
       mask_kind=st.sampled_from([None, "bool", "float"]), scale=st.sampled_from([None, 0.3]),
       seed=st.integers(0, 2**16))
def test_forward_matches_plain_definition(device, batch, L, S, E, Ev, mask_kind, scale, seed):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(batch + (L, E)) * 2
    kv_batch = (2,) if batch == (2, 1) else batch      # (2, 1) against (2,): broadcasting
    k = rng.standard_normal(kv_batch + (S, E))
    v = rng.standard_normal(k.shape[:-2] + (S, Ev))
    mask = None
    if mask_kind == "bool":
        mask = rng.random((L, S)) > 0.4
        mask[:, 0] = True          # every query sees at least one key
    elif mask_kind == "float":
        mask = rng.standard_normal((L, S))
    got = sdpa(T(q, device), T(k, device), T(v, device),
               attn_mask=None if mask is None else T(mask, device), scale=scale)
    np.testing.assert_allclose(to_np(got), plain_attention(q, k, v, mask, scale), rtol=1e-10,
                               atol=1e-12)


def test_matches_pytorch_including_causal_and_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 5, 4), (2, 3, 5, 4),
                                                                    (2, 3, 5, 6)))
    bmask = rng.random((5, 5)) > 0.5
    bmask[:, 1] = True
    fmask = rng.standard_normal((3, 5, 5)).astype(np.float32)
    cases = [dict(), dict(is_causal=True), dict(attn_mask=bmask), dict(attn_mask=fmask),
             dict(scale=0.7)]
    for kw in cases:
        ours = sdpa(*(minigan.tensor(a) for a in (q, k, v)),
                    **{n: (minigan.tensor(a) if n == "attn_mask" else a) for n, a in kw.items()})
        theirs = torch.nn.functional.scaled_dot_product_attention(
            *(torch.from_numpy(a) for a in (q, k, v)),
            **{n: (torch.from_numpy(a) if n == "attn_mask" else a) for n, a in kw.items()})
        assert ours.dtype == np.float32
        np.testing.assert_allclose(to_np(ours), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_large_scores_do_not_overflow(device):
    q = T(np.full((1, 2, 3), 300.0), device)
    k = T(np.array([[[300.0] * 3, [-300.0] * 3]]), device)     # scores of about +-1.5e5
    v = T(np.array([[[1.0, 0.0], [0.0, 1.0]]]), device)
    out = to_np(sdpa(q, k, v))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, [[[1, 0], [1, 0]]], atol=1e-12)


@given(L=st.integers(1, 3), S=st.integers(1, 3), E=st.integers(1, 2), Ev=st.integers(1, 2),
       masked=st.booleans(), seed=st.integers(0, 2**16))
@settings(max_examples=10, deadline=None)
def test_gradcheck_first_and_second_order(L, S, E, Ev, masked, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (minigan.tensor(rng.standard_normal(s), dtype="float64", requires_grad=True)
               for s in ((2, L, E), (2, S, E), (2, S, Ev)))
    mask = None
    if masked:
        m = rng.random((L, S)) > 0.5
        m[:, -1] = True
        mask = minigan.tensor(m)

    def f(q, k, v):
        return sdpa(q, k, v, attn_mask=mask)

    assert minigan.gradcheck(f, (q, k, v))
    assert minigan.gradgradcheck(f, (q, k, v))


def test_masked_keys_get_no_weight_and_no_gradient():
    rng = np.random.default_rng(1)
    q = minigan.tensor(rng.standard_normal((2, 3)), dtype="float64", requires_grad=True)
    k = minigan.tensor(rng.standard_normal((4, 3)), dtype="float64", requires_grad=True)
    v = minigan.tensor(rng.standard_normal((4, 2)), dtype="float64", requires_grad=True)
    mask = minigan.tensor(np.array([True, True, False, False]))     # broadcast over queries
    out = sdpa(q, k, v, attn_mask=mask)
    out.sum().backward()
    np.testing.assert_array_equal(to_np(k.grad)[2:], 0)
    np.testing.assert_array_equal(to_np(v.grad)[2:], 0)
    np.testing.assert_allclose(to_np(out), plain_attention(to_np(q), to_np(k)[:2],
                                                           to_np(v)[:2]), rtol=1e-12)


def test_dropout_p_is_seeded():
    rng = np.random.default_rng(2)
    q, k, v = (minigan.tensor(rng.standard_normal(s)) for s in ((4, 3), (5, 3), (5, 2)))
    minigan.manual_seed(3)
    a = to_np(sdpa(q, k, v, dropout_p=0.5))
    minigan.manual_seed(3)
    b = to_np(sdpa(q, k, v, dropout_p=0.5))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, to_np(sdpa(q, k, v)))


def test_errors():
    q, k, v = minigan.randn(2, 3, 4), minigan.randn(2, 5, 4), minigan.randn(2, 5, 6)
    with pytest.raises(ValueError, match="same feature size"):
        sdpa(q, minigan.randn(2, 5, 3), v)
    with pytest.raises(ValueError, match="same length"):
        sdpa(q, k, minigan.randn(2, 4, 6))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 5\) does not broadcast"):
        sdpa(q, k, v, attn_mask=minigan.tensor(np.ones((4, 5), dtype=bool)))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        sdpa(minigan.randn(4), k, v)
