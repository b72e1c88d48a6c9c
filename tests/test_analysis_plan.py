"""The analysis plan: the shipped default matches INSTRUMENT.md section 8, a researcher's
own plan changes the families, and a broken plan is a one-line error."""
from __future__ import annotations

import pytest

from analysis.effects import estimate_effects
from analysis.errors import AnalysisInputError
from analysis.plan import DEFAULT_PLAN, load_plan
from analysis_fixtures import tidy_study


def test_default_plan_is_instrument_section_8():
    plan = load_plan()
    assert set(plan.confirmatory) == {("H1", "attractiveness", "manager"), ("H1", "trust_manager", "manager"),
                                      ("H1", "autonomy", "manager"), ("H2", "collaboration", "partner")}
    assert plan.sesoi > 0 and plan.ri_draws >= 1000 and plan.path == str(DEFAULT_PLAN)
    assert len(plan.sha256) == 64


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
    ('[[confirmatory]]\noutcome = "autonomy"\nfactor = "salary"\n', "unknown factor"),
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
