"""Design diagnosis: simulated power against analytic power (pingouin, statsmodels),
injected effects recovered, and the vectorised estimates equal to the report's own
estimator functions on the same simulated study."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from statsmodels.stats.power import TTestIndPower

from analysis import estimators as est
from analysis.contract import EFFECT_PROGRAMMES, INTERACTION
from analysis.design import DIAGNOSIS_COLUMNS, Design, design_from_plan, diagnose, load_assignment
from analysis.inference import tost
from analysis.plan import load_plan

REPO = pathlib.Path(__file__).resolve().parents[1]


def effects(manager=0.0, partner=0.0, interaction=0.0):
    as_map = lambda v: v if isinstance(v, dict) else {p: v for p in EFFECT_PROGRAMMES}  # noqa: E731
    return {"manager": as_map(manager), "partner": as_map(partner), INTERACTION: as_map(interaction)}


def row(diag, factor, programme, estimator):
    r = diag[(diag.factor == factor) & (diag.programme == programme) & (diag.estimator == estimator)]
    assert len(r) == 1
    return r.iloc[0]


@pytest.fixture(scope="module")
def equal_arms():
    """One programme of 120 (60 per arm exactly: blocks of 4), no attrition, 2,000 sims.

    The partner effect is 0 here: in a difference in means the other factor's effect is
    part of the within-arm variance, which the two-sample t-test formula does not have.
    """
    design = Design(n={"nursing": 120}, effect_sd=effects(0.4, 0.0), outcome_sd=1.5, sims=2000, seed=7)
    return design, *diagnose(design)


def test_simulated_power_agrees_with_pingouin_power_ttest_within_3_points(equal_arms):
    design, diag, _ = equal_arms
    analytic = pg.power_ttest(d=0.4, n=60, alpha=0.05, contrast="two-samples")  # about 0.58
    for estimator in ("difference_in_means", "factorial"):
        r = row(diag, "manager", "nursing", estimator)
        assert r.n == 120 and r.sims == 2000
        assert abs(r.power - analytic) < 0.03, (estimator, r.power, analytic)
    null = row(diag, "partner", "nursing", "difference_in_means")
    assert null.effect == 0 and abs(null.power - 0.05) < 0.015  # the level


def test_equivalence_power_uses_the_plans_sesoi_and_agrees_with_tost_and_a_formula(equal_arms):
    design, diag, raw = equal_arms
    r = row(diag, "manager", "nursing", "difference_in_means")
    assert r.sesoi_sd == design.sesoi_sd == load_plan().sesoi_sd
    assert r.sesoi == pytest.approx(design.sesoi_sd * design.outcome_sd)
    sims = raw["results"][("manager", "nursing", "difference_in_means")]
    # brute force: the report's own TOST on every simulated study with the effect removed
    shown = [tost(e - r.effect, se, df, r.sesoi, design.alpha)["equivalent"]
             for e, se, df in zip(sims["est"], sims["se"], sims["df"])]
    assert r.power_equivalence == pytest.approx(np.mean(shown), abs=1e-12)
    # textbook (normal, known SE) approximation: 2 Phi(sesoi / se - t_crit) - 1, about 0.41
    from scipy import stats
    se = design.outcome_sd * np.sqrt(2 / 60)
    approx = 2 * stats.norm.cdf(r.sesoi / se - stats.t.ppf(0.95, 118)) - 1
    assert abs(r.power_equivalence - approx) < 0.04, (r.power_equivalence, approx)


def test_simulated_mde_agrees_with_analytic_within_5_percent(equal_arms):
    design, diag, _ = equal_arms
    d80 = pg.power_ttest(n=60, power=0.8, alpha=0.05, contrast="two-samples")  # about 0.515 SD
    for factor in ("manager", "partner"):
        r = row(diag, factor, "nursing", "difference_in_means")
        assert r.mde_80 == pytest.approx(d80 * design.outcome_sd, rel=0.05)
        assert r.mde_80_sd == pytest.approx(d80, rel=0.05)


def test_simulated_intervals_cover_the_true_effect_93_to_97_percent(equal_arms):
    _, diag, _ = equal_arms
    assert len(diag) == 2 + 3 + 3  # difference in means (2 factors), factorial (3), pooled (3)
    assert ((diag.coverage >= 0.93) & (diag.coverage <= 0.97)).all(), diag[["factor", "estimator", "coverage"]]


def test_pooled_power_agrees_with_statsmodels_for_four_equal_programmes():
    n = {p: 80 for p in EFFECT_PROGRAMMES}  # 320: the pooled SE is that of 160 per arm
    design = Design(n=n, effect_sd=effects(0.25, 0.0), sims=2000, seed=11, family_size=4)
    diag, _ = diagnose(design)
    analytic = TTestIndPower().power(effect_size=0.25, nobs1=160, alpha=0.05)  # about 0.62
    pooled = row(diag, "manager", "pooled", "block_weighted")
    assert abs(pooled.power - analytic) < 0.03
    # the confirmatory family's level: alpha / 4 (Bonferroni bound for Holm)
    assert abs(pooled.power_family - TTestIndPower().power(effect_size=0.25, nobs1=160, alpha=0.0125)) < 0.03
    assert pooled.mde_80_family == pytest.approx(TTestIndPower().solve_power(nobs1=160, power=0.8, alpha=0.0125),
                                                 rel=0.05)
    # No effect: power is the level, and significant results have a random sign.
    null = row(diag, "partner", "pooled", "block_weighted")
    assert null.effect == 0 and abs(null.power - 0.05) < 0.015 and np.isnan(null.type_s)


def test_diagnosis_recovers_injected_effects_with_attrition_and_check_failures():
    m = {"nursing": 0.5, "teacher": 0.2, "management": 0.0, "public_admin": -0.3}
    design = Design(n={"nursing": 100, "teacher": 100, "management": 60, "public_admin": 60},
                    effect_sd=effects(m, -0.4, 0.3), outcome_sd=1.2, attrition=0.15,
                    check_failure=0.2, classes=3, sims=1500, seed=5)
    diag, raw = diagnose(design)
    assert row(diag, "manager", "nursing", "difference_in_means").effect == pytest.approx(0.5 * 1.2 * 0.8)
    pooled_truth = sum(design.n[p] * m[p] for p in m) / 320 * 1.2 * 0.8
    assert row(diag, "manager", "pooled", "block_weighted").effect == pytest.approx(pooled_truth)
    for r in diag.itertuples():
        mcse = r.rmse / np.sqrt(r.sims)  # SE of the mean estimate
        assert abs(r.bias) < 3.5 * mcse, (r.factor, r.programme, r.estimator, r.bias, mcse)
        assert 0.93 <= r.coverage <= 0.97, (r.factor, r.programme, r.estimator, r.coverage)
        assert r.n_observed == pytest.approx(r.n * 0.85, rel=0.03)
    big = row(diag, "manager", "nursing", "difference_in_means")
    assert big.power > 0.3 and big.type_s < 0.01 and big.type_m > 1  # significant results exaggerate
    small = row(diag, "manager", "teacher", "difference_in_means")
    assert small.type_m > big.type_m


def test_vectorised_estimates_equal_the_report_estimators_on_each_simulated_study():
    design = Design(n={"nursing": 30, "teacher": 22, "management": 9}, effect_sd=effects(0.5, 0.3, 0.2),
                    attrition=0.2, sims=6, seed=3)
    _, raw = diagnose(design)
    sim, res = raw["sim"], raw["results"]
    for s in range(design.sims):
        cells = np.array(est.CELL_ORDER)[sim.cell[s]]
        frame = pd.DataFrame({"programme": np.array(design.programmes)[sim.programme],
                              "manager": cells[:, 0], "partner": cells[:, 1],
                              "collaboration": np.where(sim.observed[s], sim.y[s], np.nan)})
        reports = pd.concat([
            est.difference_in_means(frame, "collaboration", "manager", design.programmes),
            est.difference_in_means(frame, "collaboration", "partner", design.programmes),
            est.factorial(frame, "collaboration", design.programmes),
            *(est.block_weighted(frame, "collaboration", f, design.programmes)
              for f in ("manager", "partner", INTERACTION))])
        assert len(reports) == len(res)
        for r in reports.itertuples():
            v = res[(r.factor, r.programme, r.estimator)]
            got = np.array([v["est"][s], v["se"][s], v["df"][s], v["lo"][s], v["p"][s]])
            want = np.array([r.estimate, r.std_error, r.df, r.ci_low, r.p_value])
            assert np.allclose(got, want, rtol=1e-10, equal_nan=True), (s, r.factor, r.programme, r.estimator)


def test_assignment_comes_from_the_experiment_and_keeps_its_balance_guarantee():
    code = ("import collab_experiment.assignment as a, analysis.design as d; "
            "print(a is d.load_assignment())")
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert res.stdout.strip().endswith("True"), res.stderr  # the app assigns with this very module
    assert load_assignment().ASSIGNMENT_VERSION.startswith("stratified-permuted-blocks")
    design = Design(n={"nursing": 37, "public_admin": 14}, effect_sd=effects(), sims=50, seed=1)
    _, raw = diagnose(design)
    sim = raw["sim"]
    for j in range(2):
        counts = np.stack([(sim.cell[:, sim.programme == j] == k).sum(axis=1) for k in range(4)], axis=1)
        assert (counts.max(axis=1) - counts.min(axis=1) <= 1).all()
        assert len({tuple(c) for c in sim.cell[:, sim.programme == j]}) > 40  # studies differ
    code = "import analysis.design as d, sys; d.load_assignment(); print('otree' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert res.stdout.strip() == "False", res.stderr


def test_plan_design_section_and_command_line_overrides():
    plan = load_plan()
    d = design_from_plan(plan)
    assert sum(d.n.values()) == 800 and d.effect_sd["manager"]["nursing"] == 0.3
    o = design_from_plan(plan, n={"nursing": 50}, effect_sd_all=0.5, sims=10)
    assert o.programmes == ("nursing",) and o.effect_sd["partner"]["nursing"] == 0.5 and o.sims == 10
    assert o.effect_sd[INTERACTION]["nursing"] == 0.0


def test_design_command_writes_csv_and_html_with_progress(tmp_path):
    res = subprocess.run([sys.executable, "-m", "analysis", "design", "--n", "nursing=40,teacher=24",
                          "--effect-sd", "0.5", "--sims", "60", "--seed", "2", "--out", str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "assignment 60/60" in res.stderr
    diag = pd.read_csv(tmp_path / "diagnosis.csv")
    assert list(diag.columns[:12]) == ["factor", "programme", "estimator", "n", "effect", "power", "bias",
                                       "rmse", "coverage", "type_s", "type_m", "mde_80"]
    assert list(diag.columns) == list(DIAGNOSIS_COLUMNS)
    assert set(diag.programme) == {"nursing", "teacher", "pooled"}
    html = (tmp_path / "diagnosis.html").read_text()
    assert "data:image/png;base64," in html and "Power curves" in html
    bad = subprocess.run([sys.executable, "-m", "analysis", "design", "--n", "nurses=40", "--out", str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown programme 'nurses'" in bad.stderr
