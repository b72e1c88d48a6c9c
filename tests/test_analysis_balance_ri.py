"""The randomisation omnibus balance test (Hansen & Bowers' d²) against brute-force
enumeration of every within-block assignment, and its calibration: across many simulated
studies with no imbalance by construction (sparse categories included), it rejects at 5%
within Monte Carlo error."""
from __future__ import annotations

import itertools


import numpy as np
import pandas as pd
import pytest

from analysis import balance_ri as BR
from analysis.plan import load_plan
from analysis_fixtures import tidy_study


def _design(rng, n_blocks, sizes=None):
    sizes = sizes or [4] * n_blocks
    blocks = np.repeat(np.arange(len(sizes)), sizes)
    t = np.concatenate([rng.permutation(np.r_[np.ones(s // 2), np.zeros(s - s // 2)]) for s in sizes])
    age = rng.choice(5, size=len(t), p=[0.6, 0.2, 0.1, 0.07, 0.03])  # sparse levels
    X = np.column_stack([rng.normal(size=len(t)), rng.random(len(t)) < 0.3,
                         *(age == k for k in range(5))]).astype(float)
    return X, t, blocks


def _brute_force(X, t, blocks):
    """Every distinct within-block arrangement of the labels, by permutations."""
    per_block = []
    for b in np.unique(blocks):
        idx = np.flatnonzero(blocks == b)
        arr = sorted(set(itertools.permutations(t[idx])))
        per_block.append((idx, arr))
    Ds = []
    Xc = X.copy()
    for idx, _ in per_block:
        Xc[idx] -= X[idx].mean(axis=0)
    for combo in itertools.product(*(arr for _, arr in per_block)):
        tt = np.empty(len(t))
        for (idx, _), a in zip(per_block, combo):
            tt[idx] = a
        Ds.append(Xc.T @ tt)
    return np.array(Ds)


def test_exact_p_and_covariance_equal_brute_force_enumeration():
    rng = np.random.default_rng(2)
    X, t, blocks = _design(rng, 0, sizes=[4, 4, 4, 3, 2])  # 6*6*6*3*2 = 1296 assignments
    D = _brute_force(X, t, blocks)
    Xc = X.copy()
    for b in np.unique(blocks):
        Xc[blocks == b] -= X[blocks == b].mean(axis=0)
    S_enum = np.cov(D.T, bias=True)  # exact randomisation covariance of d (mean 0)
    assert np.allclose(D.mean(axis=0), 0, atol=1e-12)
    Sinv = np.linalg.pinv(S_enum, rcond=1e-10)
    T_all = np.einsum("ak,kl,al->a", D, Sinv, D)
    d = Xc.T @ t
    T_obs = d @ Sinv @ d
    p_enum = np.mean(T_all >= T_obs - 1e-9)
    res = BR.d2_test(X, t, blocks)
    assert res["method"] == "exact" and res["draws"] == 1296
    assert res["statistic"] == pytest.approx(T_obs, rel=1e-8)
    assert res["p_value"] == pytest.approx(p_enum, abs=1e-12)
    mc = BR.d2_test(X, t, blocks, draws=20000, seed=5, exact_limit=0)
    assert mc["method"] == "monte carlo"
    assert mc["p_value"] == pytest.approx(p_enum, abs=4 * np.sqrt(p_enum * (1 - p_enum) / 20000) + 1e-4)


def test_calibrated_with_sparse_categories_when_nothing_is_imbalanced():
    rng = np.random.default_rng(20261)
    sims = 400
    p = np.array([BR.d2_test(*_design(rng, 10), draws=200, seed=k, exact_limit=0)["p_value"]
                  for k in range(sims)])
    for level in (0.05, 0.10):
        rate = np.mean(p <= level)
        assert abs(rate - level) < 3 * np.sqrt(level * (1 - level) / sims), (level, rate)
    # and roughly uniform overall
    assert abs(np.mean(p) - 0.5) < 3 * np.sqrt(1 / 12 / sims)


def test_detects_a_real_imbalance():
    rng = np.random.default_rng(4)
    X, t, blocks = _design(rng, 30)
    X[:, 0] += 1.2 * t  # the numeric covariate depends on the label
    assert BR.d2_test(X, t, blocks, draws=500, seed=1)["p_value"] < 0.01


def test_rows_join_the_balance_table(tmp_path):
    tidy = tidy_study(n=400, seed=3, tmp_path=tmp_path)
    plan = load_plan()
    r = BR.randomisation_omnibus(tidy, plan)
    assert len(r) == 10 and set(r.covariate) == {"omnibus"}
    ok = r.p_value.notna()
    assert ((r.p_value[ok] > 0) & (r.p_value[ok] <= 1)).all()
    assert "<h2>" in BR.balance_section(r, lambda df: df.to_html())
