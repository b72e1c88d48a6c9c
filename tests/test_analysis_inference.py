"""Multiplicity, equivalence and randomisation inference against independent references."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import ttost_ind

from analysis import estimators as est
from analysis.inference import (benjamini_hochberg, difference_coefficients, holm,
                                loop_randomisation_baseline, randomisation_test, tost)
from analysis_fixtures import SLEEP_GROUP1, SLEEP_GROUP2

pvals = st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(pvals)
def test_holm_is_monotone_at_most_one_and_equals_statsmodels_holm(p):
    p = np.array(p)
    adj = holm(p)
    order = np.argsort(p, kind="stable")
    assert (np.diff(adj[order]) >= -1e-15).all()
    assert (adj <= 1).all() and (adj >= p - 1e-15).all()
    assert adj == pytest.approx(multipletests(p, method="holm")[1], abs=1e-12)


def test_holm_is_not_statsmodels_default_holm_sidak():
    p = np.array([0.01, 0.02, 0.03, 0.04])
    assert not np.allclose(holm(p), multipletests(p)[1])  # the default is Holm-Sidak
    assert holm(p).tolist() == pytest.approx([0.04, 0.06, 0.06, 0.06])


@settings(max_examples=60, deadline=None)
@given(pvals)
def test_benjamini_hochberg_equals_statsmodels_fdr_bh(p):
    p = np.array(p)
    adj = benjamini_hochberg(p)
    assert (adj <= 1).all()
    assert adj == pytest.approx(multipletests(p, method="fdr_bh")[1], abs=1e-12)


def test_nan_p_values_stay_nan_and_do_not_count():
    adj = holm(np.array([0.01, np.nan, 0.02]))
    assert np.isnan(adj[1]) and adj[0] == pytest.approx(0.02) and adj[2] == pytest.approx(0.02)


def test_tost_matches_statsmodels_welch_tost_on_sleep():
    e, se, df = est.welch(SLEEP_GROUP2, SLEEP_GROUP1)
    res = tost(e, se, df, sesoi=2.5)
    p_ref, lower, upper = ttost_ind(SLEEP_GROUP2, SLEEP_GROUP1, -2.5, 2.5, usevar="unequal")
    assert res["p_tost"] == pytest.approx(p_ref, rel=1e-9)
    assert res["p_lower"] == pytest.approx(lower[1], rel=1e-9)
    assert res["p_upper"] == pytest.approx(upper[1], rel=1e-9)
    assert res["equivalent"] is False  # 1.58 is too close to 2.5 with n = 20


def test_tost_declares_equivalence_for_a_precise_null_effect():
    res = tost(0.01, 0.05, 1000, sesoi=0.4)
    assert res["equivalent"] is True and res["p_tost"] < 1e-10


def _brute_force_p(y, labels, blocks, treated):
    """Enumerate every within-block arrangement of the labels; DIM of each."""
    idx_by_block = [np.flatnonzero(blocks == b) for b in np.unique(blocks)]
    per_block = [sorted(set(itertools.permutations(labels[ix]))) for ix in idx_by_block]
    stats_ = []
    for combo in itertools.product(*per_block):
        lab = labels.copy()
        for ix, arr in zip(idx_by_block, combo):
            lab[ix] = arr
        t = np.isin(lab, treated)
        stats_.append(y[t].mean() - y[~t].mean())
    stats_ = np.array(stats_)
    t = np.isin(labels, treated)
    obs = y[t].mean() - y[~t].mean()
    centre = stats_.mean()
    return obs, np.mean(np.abs(stats_ - centre) >= abs(obs - centre) - 1e-9), len(stats_)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_exact_randomisation_inference_equals_full_enumeration(data):
    n_blocks = data.draw(st.integers(1, 3))
    ys, labels, blocks = [], [], []
    for b in range(n_blocks):
        size = data.draw(st.integers(2, 4))
        cells = data.draw(st.permutations(["ts", "to", "cs", "co"]))[:size]
        labels += list(cells)
        ys += data.draw(st.lists(st.integers(1, 7), min_size=size, max_size=size))
        blocks += [b] * size
    y, labels, blocks = np.array(ys, float), np.array(labels), np.array(blocks)
    t = np.isin(labels, ["ts", "to"])  # manager = trust
    if t.all() or (~t).all():
        return
    obs, p_ref, count = _brute_force_p(y, labels, blocks, ["ts", "to"])
    res = randomisation_test(y, difference_coefficients(t), blocks, exact_limit=10**6)
    assert res["method"] == "exact"
    assert res["statistic"] == pytest.approx(obs, abs=1e-12)
    assert res["p_value"] == pytest.approx(p_ref, abs=1e-12)


def test_monte_carlo_randomisation_inference_is_seeded_and_near_the_exact_p():
    rng = np.random.default_rng(4)
    blocks = np.repeat(np.arange(5), 4)
    t = np.concatenate([rng.permutation([1, 1, 0, 0]) for _ in range(5)]).astype(bool)
    y = rng.integers(1, 8, 20) + 1.0 * t
    c = difference_coefficients(t)
    exact = randomisation_test(y, c, blocks, exact_limit=10**6)
    mc1 = randomisation_test(y, c, blocks, draws=20000, seed=9, exact_limit=0)
    mc2 = randomisation_test(y, c, blocks, draws=20000, seed=9, exact_limit=0)
    assert exact["method"] == "exact" and mc1["method"] == "monte_carlo"
    assert mc1["p_value"] == mc2["p_value"]
    assert mc1["p_value"] == pytest.approx(exact["p_value"], abs=4 * np.sqrt(0.25 / 20000) + 1e-4)


def test_vectorised_draws_have_the_loop_baselines_null_distribution():
    rng = np.random.default_rng(5)
    blocks = np.repeat(np.arange(40), 4)
    t = np.concatenate([rng.permutation([1, 1, 0, 0]) for _ in range(40)]).astype(bool)
    y = rng.integers(1, 8, 160).astype(float)
    c = difference_coefficients(t)
    loop = loop_randomisation_baseline(y, c, blocks, draws=3000, seed=1)
    # exact null variance: sum over blocks of the variance across the 6 arrangements
    var = 0.0
    for b in range(40):
        ix = blocks == b
        sums = [y[ix] @ np.array(a) for a in set(itertools.permutations(c[ix]))]
        var += np.var(sums)
    assert np.var(loop) == pytest.approx(var, rel=0.1)
    assert abs(np.mean(loop)) < 4 * np.sqrt(var / 3000)


# ---------------------------------------------------------------- the 2x2's conditional scheme
def _two_by_two(rng, n_blocks, partner_effect, manager_effect):
    """Permuted blocks holding every cell once; outcome with the given effects (SD 1)."""
    cells = np.array([(m, q) for m in (1, 0) for q in (1, 0)])
    order = np.concatenate([rng.permutation(4) for _ in range(n_blocks)])
    manager, partner = cells[order, 0], cells[order, 1]
    blocks = np.repeat(np.arange(n_blocks), 4)
    y = partner_effect * partner + manager_effect * manager + rng.standard_normal(len(order))
    return y, manager.astype(bool), partner, blocks


def _conditional_blocks(blocks, other):
    return blocks * 2 + other  # block x the other factor's arm


def test_conditional_exact_p_equals_brute_force_enumeration_of_the_within_block_swaps():
    rng = np.random.default_rng(5)
    y, m, q, b = _two_by_two(rng, 4, partner_effect=3.0, manager_effect=0.0)
    keep = np.ones(len(y), bool)
    keep[[1, 6]] = False  # drop-out: two sub-blocks of one person, their labels fixed
    y, m, q, b = y[keep], m[keep], q[keep], b[keep]
    c = difference_coefficients(m)
    sub = _conditional_blocks(b, q)
    res = randomisation_test(y, c, sub)
    assert res["method"] == "exact" and res["draws"] == 2 ** 6
    # brute force: every sub-block of two either keeps or swaps its coefficients
    pairs = [np.flatnonzero(sub == k) for k in np.unique(sub)]
    pairs = [p for p in pairs if len(p) == 2]
    dist = []
    for swaps in itertools.product((False, True), repeat=len(pairs)):
        cc = c.copy()
        for p, s in zip(pairs, swaps):
            if s:
                cc[p] = cc[p[::-1]]
        dist.append(float(y @ cc))
    dist = np.array(dist)
    centre = dist.mean()
    want = np.mean(np.abs(dist - centre) >= abs(y @ c - centre) - 1e-9)
    assert res["p_value"] == pytest.approx(want, abs=1e-12)
    # the Monte Carlo path (one random bit per pair) agrees within its error
    mc = randomisation_test(y, c, sub, draws=20_000, seed=3, exact_limit=0)
    assert mc["method"] == "monte_carlo" and abs(mc["p_value"] - want) < 4 * np.sqrt(want * (1 - want) / 20_000) + 1e-4


def test_conditional_scheme_keeps_its_size_under_a_large_partner_effect_and_has_more_power():
    """Monte Carlo: 400 studies of 30 blocks (120 people), partner effect 2 SD.

    With no manager effect, the conditional test of the manager's sharp null rejects at
    the 5 % level in 5 % of studies (within 3 Monte Carlo SEs); with a manager effect of
    0.5 SD it rejects at least as often as the old whole-block permutation, which mixes
    the partner effect into the manager's null distribution.
    """
    rng = np.random.default_rng(20261)
    reps, draws = 400, 199
    size, power_new, power_old = [], [], []
    for k in range(reps):
        y, m, q, b = _two_by_two(rng, 30, partner_effect=2.0, manager_effect=0.0)
        c = difference_coefficients(m)
        size.append(randomisation_test(y, c, _conditional_blocks(b, q), draws=draws, seed=k)["p_value"] <= 0.05)
        y, m, q, b = _two_by_two(rng, 30, partner_effect=2.0, manager_effect=0.5)
        c = difference_coefficients(m)
        power_new.append(randomisation_test(y, c, _conditional_blocks(b, q), draws=draws, seed=k)["p_value"] <= 0.05)
        power_old.append(randomisation_test(y, c, b, draws=draws, seed=k)["p_value"] <= 0.05)
    mcse = np.sqrt(0.05 * 0.95 / reps)
    assert abs(np.mean(size) - 0.05) <= 3 * mcse, np.mean(size)
    assert np.mean(power_new) >= np.mean(power_old), (np.mean(power_new), np.mean(power_old))
    assert np.mean(power_new) > 0.4  # about the t-test's power for 0.5 SD with 60 per arm


def test_ri_table_re_randomises_within_block_and_the_other_arm_and_says_its_null(tmp_path):
    from analysis.effects import ri_blocks, ri_null, ri_table, estimate_effects
    from analysis.plan import load_plan
    from analysis_fixtures import tidy_study
    from dataclasses import replace
    tidy = tidy_study(400, tmp_path=tmp_path)
    s = est.analysis_sample(tidy)
    s = s[s.attractiveness.notna()]
    groups = ri_blocks(s, "manager")
    for g in np.unique(groups):  # every re-randomisation group shares block and partner arm
        d = s[groups == g]
        assert d.partner.nunique() == 1 and d.block.nunique() == 1 and d.session_code.nunique() == 1
    plan = replace(load_plan(), ri_draws=200)
    ri = ri_table(tidy, estimate_effects(tidy, plan), plan)
    assert set(ri.null) == {ri_null("manager"), ri_null("partner")}
    assert "whatever the partner effect" in ri_null("manager") and "joint" in ri_null("manager", "block")
