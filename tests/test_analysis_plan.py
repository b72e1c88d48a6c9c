"""The analysis plan: the shipped default holds the hypotheses of instrument 2026.2
(docs/design.md), a researcher's own plan changes the families, families count each
hypothesis once, and a broken plan is a one-line error."""
from __future__ import annotations

import pytest

from analysis.contract import CHECK_SCALES, OUTCOME_SCALES
from analysis.effects import estimate_effects
from analysis.errors import AnalysisInputError
from analysis.plan import DEFAULT_PLAN, load_plan
from analysis_fixtures import tidy_study


def test_default_plan_has_h1_h2_without_autonomy():
    plan = load_plan()
    assert set(plan.confirmatory) == {("H1", "attractiveness", "manager"), ("H1", "trust_manager", "manager"),
                                      ("H2", "collaboration", "partner")}
    assert not any(o in CHECK_SCALES for _, o, _ in plan.confirmatory)
    assert plan.sesoi_sd == 0.4 and plan.ri_draws >= 1000 and plan.path == str(DEFAULT_PLAN)
    assert plan.primary_estimator("pooled") == "block_weighted"
    assert plan.primary_estimator("nursing", "manager") == "difference_in_means"
    assert plan.primary_estimator("nursing", "manager:partner") == "factorial"
    assert len(plan.sha256) == 64


def test_families_count_each_hypothesis_once_and_robustness_rows_never_inflate_bh(tmp_path):
    from analysis.inference import benjamini_hochberg
    plan = load_plan()
    eff = estimate_effects(tidy_study(600, tmp_path=tmp_path), plan)
    fam = eff[eff.adjustment.isin(["holm", "bh"])]
    # one row per hypothesis (outcome x effect x programme) in the families
    assert not fam.duplicated(["outcome", "factor", "programme"]).any()
    assert set(fam.outcome) <= set(OUTCOME_SCALES)
    rob = eff[eff.adjustment == "robustness"]
    assert set(rob.estimator) >= {"lin", "fixed_effects", "factorial"}
    assert rob.p_adjusted.isna().all()
    # BH recomputed by hand over the primary rows only equals the table's
    bh = eff[eff.adjustment == "bh"]
    assert bh.p_adjusted.to_numpy() == pytest.approx(benjamini_hochberg(bh.p_value.to_numpy()), nan_ok=True)
    hyps = eff[eff.outcome.isin(OUTCOME_SCALES)].drop_duplicates(["outcome", "factor", "programme"])
    assert len(fam) == len(hyps)  # the family size is the number of hypotheses, not of rows
    assert set(eff[eff.outcome == "autonomy"].adjustment) <= {"check", "robustness"}
    holm = eff[eff.adjustment == "holm"]
    assert set(zip(holm.outcome, holm.factor)) == {(o, f) for _, o, f in plan.confirmatory}
    assert set(holm.estimator) == {"block_weighted"}


def test_plan_chooses_the_primary_estimator(tmp_path):
    own = tmp_path / "plan.toml"
    own.write_text(DEFAULT_PLAN.read_text().replace('primary_per_programme = ["difference_in_means", "factorial"]',
                                                    'primary_per_programme = ["factorial"]'))
    eff = estimate_effects(tidy_study(400, tmp_path=tmp_path), load_plan(own))
    per = eff[(eff.programme != "pooled") & eff.outcome.isin(OUTCOME_SCALES)]
    assert set(per[per.adjustment == "bh"].estimator) == {"factorial"}
    assert set(per[per.estimator == "difference_in_means"].adjustment) == {"robustness"}


def test_own_plan_changes_the_holm_family(tmp_path):
    text = DEFAULT_PLAN.read_text()
    head, _, _ = text.partition("[[confirmatory]]")
    own = tmp_path / "plan.toml"
    own.write_text(head.replace('name = "default"', 'name = "only-h2"')
                   + '[[confirmatory]]\nhypothesis = "H2"\noutcome = "collaboration"\nfactor = "partner"\n'
                   + text[text.index("[exploratory]"):])
    plan = load_plan(own)
    assert plan.name == "only-h2"
    eff = estimate_effects(tidy_study(600, tmp_path=tmp_path), plan)
    holm = eff[eff.adjustment == "holm"]
    assert len(holm) == 1 and holm.iloc[0].outcome == "collaboration"
    assert holm.iloc[0].p_adjusted == pytest.approx(holm.iloc[0].p_value)  # a family of one
    bh = eff[(eff.adjustment == "bh")]
    assert ((bh.outcome == "attractiveness") & (bh.programme == "pooled")).any()


@pytest.mark.parametrize("text, problem", [
    ("alpha = [", "not a valid TOML plan"),
    ('[[confirmatory]]\noutcome = "happiness"\nfactor = "manager"\n', "unknown outcome"),
    ('[[confirmatory]]\noutcome = "collaboration"\nfactor = "salary"\n', "unknown factor"),
    ('[[confirmatory]]\noutcome = "autonomy"\nfactor = "manager"\n', "manipulation check"),
    ('[equivalence]\nsesoi = 0.4\n', "now sesoi_sd"),
    ('[families]\nprimary_pooled = "lin"\n', "not a registered pooled estimator"),
    ('[[confirmatory]]\nfactor = "manager"\n', "missing or malformed"),
    ("alpha = 2\n", "alpha must be"),
])
def test_broken_plan_is_a_one_line_error_naming_the_file(tmp_path, text, problem):
    p = tmp_path / "bad_plan.toml"
    p.write_text(text)
    with pytest.raises(AnalysisInputError) as exc:
        load_plan(p)
    assert "bad_plan.toml" in str(exc.value) and problem in str(exc.value)
    assert "\n" not in str(exc.value)


def test_readme_lists_the_registered_estimators_and_no_file_outside_the_repository():
    from analysis import registry
    readme = (DEFAULT_PLAN.parent / "README.md").read_text(encoding="utf-8")
    listed = readme.split("<!-- registry -->\n")[1].split("\n<!-- /registry -->")[0]
    assert listed == registry.markdown_list()
    root = DEFAULT_PLAN.parents[1]
    files = [*root.joinpath("analysis").rglob("*.py"), *root.joinpath("analysis").glob("*.md"),
             *root.joinpath("analysis").glob("*.toml"), *root.joinpath("tests").glob("test_analysis_*.py"),
             root / "settings.py"]
    for f in files:
        text = f.read_text(encoding="utf-8")
        for name in ("DESIGN" + ".md", "INSTRUMENT" + ".md", "../" + "shared"):
            assert name not in text, (f, name)


def test_sesoi_in_scale_points_uses_the_pooled_within_cell_sd_of_an_ols_on_cell_dummies(tmp_path):
    import numpy as np
    import statsmodels.formula.api as smf
    from analysis import estimators as est
    from analysis.contract import EFFECT_PROGRAMMES
    from analysis.effects import sesoi_table
    plan = load_plan()
    tidy = tidy_study(500, tmp_path=tmp_path)
    ses = sesoi_table(tidy, plan).set_index("outcome")
    s = est.analysis_sample(tidy)
    for outcome in OUTCOME_SCALES:
        d = s[s[outcome].notna() & s.programme.isin(EFFECT_PROGRAMMES)]
        fit = smf.ols(f"{outcome} ~ C(programme):C(manager):C(partner)", data=d).fit()
        sd = np.sqrt(fit.ssr / fit.df_resid)  # residual SD of the cell-means model
        assert ses.loc[outcome, "pooled_sd"] == pytest.approx(sd, rel=1e-10)
        assert ses.loc[outcome, "sesoi_points"] == pytest.approx(plan.sesoi_sd * sd, rel=1e-10)
