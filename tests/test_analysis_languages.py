"""By-language reliability and item means against pingouin and scipy."""
from __future__ import annotations

import numpy as np
import pingouin as pg
import pytest
from scipy import stats

from analysis import languages as L
from analysis_fixtures import tidy_study


@pytest.fixture(scope="module")
def tidy(tmp_path_factory):
    return tidy_study(n=900, seed=21, tmp_path=tmp_path_factory.mktemp("l"))


def test_alpha_by_language_matches_pingouin(tidy):
    rel = L.reliability_by_language(tidy)
    base = tidy[tidy.consented.fillna(False).astype(bool) & ~tidy.withdrawn.fillna(False).astype(bool)]
    assert set(rel.language) == set(base.language.dropna())
    for lang in rel.language.unique():
        X = base.loc[base.language == lang, ["trust_1", "trust_2", "trust_3", "trust_4"]].dropna()
        a, ci = pg.cronbach_alpha(X, ci=0.95)
        r = rel[(rel.scale == "trust_manager") & (rel.language == lang)].iloc[0]
        assert r.n == len(X)
        assert r.alpha == pytest.approx(a, abs=1e-12)
        assert (r.alpha_ci_low, r.alpha_ci_high) == pytest.approx(tuple(ci), abs=6e-3)  # pingouin rounds to 3 dp


def test_item_means_and_anova(tidy):
    it = L.item_means_by_language(tidy)
    base = tidy[tidy.consented.fillna(False).astype(bool) & ~tidy.withdrawn.fillna(False).astype(bool)]
    r = it[it.item == "collab_3"].iloc[0]
    groups = [base.loc[base.language == lang, "collab_3"].dropna() for lang in ("nb", "da", "en")]
    assert r.mean_da == pytest.approx(groups[1].mean())
    assert r.sd_en == pytest.approx(groups[2].std(ddof=1))
    F, p = stats.f_oneway(*groups)
    assert (r.anova_F, r.anova_p) == pytest.approx((F, p))


def test_section_says_why_invariance_is_not_tested(tidy):
    h = L.languages_section(L.reliability_by_language(tidy), L.item_means_by_language(tidy),
                            lambda df: df.to_html())
    assert "invariance" in h and "not tested" in h
    assert np.isfinite(L.reliability_by_language(tidy).omega).all()
