"""The covariate-matrix builder pinned: the two builders it replaced (the regression
design of the estimators and the balance table, and the every-level design of the d²
randomisation test) are kept below exactly as they were, and the current code must give
bit-for-bit the same arrays on generated frames with missing values, a rare level, a
constant column, an all-missing column, non-string categories, one row and no rows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import estimators as est
from analysis.plan import load_plan
from analysis_fixtures import tidy_study


def _old_regression_matrix(df, numeric, categorical):
    """analysis/estimators.py::covariate_matrix before the merge, verbatim."""
    cols = []
    for c in numeric:
        x = df[c].to_numpy(dtype=float)
        miss = ~np.isfinite(x)
        if miss.all():
            continue
        x = np.where(miss, np.nanmean(x), x)
        cols.append(x)
        if miss.any():
            cols.append(miss.astype(float))
    for c in categorical:
        s = df[c].astype("str").fillna("(missing)")
        levels = sorted(s.unique())
        for lev in levels[1:]:
            ind = (s == lev).to_numpy(dtype=float)
            if ind.sum() >= 2:
                cols.append(ind)
    if not cols:
        return np.empty((len(df), 0))
    X = np.column_stack(cols)
    X = X[:, X.std(axis=0) > 0]
    return X


def _old_every_level_matrix(d, numeric, categorical):
    """analysis/balance_ri.py::covariates before the merge, verbatim."""
    cols = []
    for c in numeric:
        x = d[c].to_numpy(dtype=float)
        miss = ~np.isfinite(x)
        if miss.all():
            continue
        cols.append(np.where(miss, np.nanmean(x), x))
        if miss.any():
            cols.append(miss.astype(float))
    for c in categorical:
        codes, _ = pd.factorize(d[c].astype("str").fillna("(missing)"), sort=True)
        cols.extend(np.eye(codes.max(initial=-1) + 1)[codes].T)
    return np.column_stack(cols) if cols else np.empty((len(d), 0))


def _regression(df, numeric, categorical):
    return est.covariate_matrix(df, numeric, categorical)


def _every_level(df, numeric, categorical):
    return est.covariate_matrix(df, numeric, categorical, every_level=True)


NUMERIC = ("score", "sparse_score", "constant", "all_missing", "year")
CATEGORICAL = ("band", "gender", "flag", "coded", "single", "with_missing")


def _frame(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.normal(size=n)
    sparse = rng.normal(2, 3, size=n)
    sparse[rng.random(n) < 0.3] = np.nan
    band = rng.choice(["18-24", "25-34", "35-44", "45+"], size=n, p=[0.5, 0.3, 0.19, 0.01]).astype(object)
    band[rng.integers(n)] = "65+"  # a level held by one person (at least)
    gender = rng.choice(["woman", "man", "other"], size=n, p=[0.5, 0.45, 0.05]).astype(object)
    gender[rng.random(n) < 0.1] = None
    with_missing = rng.choice(["a", "b"], size=n).astype(object)
    with_missing[rng.random(n) < 0.2] = np.nan
    coded = rng.choice([1.0, 2.0, 3.0, np.nan], size=n)  # numbers used as categories
    return pd.DataFrame({
        "score": score, "sparse_score": sparse, "constant": np.full(n, 4.0),
        "all_missing": np.full(n, np.nan), "year": rng.integers(1, 6, size=n),
        "band": band, "gender": gender, "flag": rng.random(n) < 0.5, "coded": coded,
        "single": ["only"] * n, "with_missing": with_missing})


FRAMES = [(seed, n) for seed, n in [(1, 40), (2, 40), (3, 9), (4, 200), (5, 3)]]


@pytest.mark.parametrize("seed,n", FRAMES)
@pytest.mark.parametrize("build,old", [(_regression, _old_regression_matrix),
                                       (_every_level, _old_every_level_matrix)],
                         ids=["regression", "every_level"])
def test_the_builder_gives_exactly_what_each_old_builder_gave(seed, n, build, old):
    df = _frame(seed, n)
    for numeric, categorical in [(NUMERIC, CATEGORICAL), (NUMERIC, ()), ((), CATEGORICAL),
                                 ((), ("band",)), (("constant", "all_missing"), ("single",)),
                                 ((), ())]:
        want = old(df, numeric, categorical)
        got = build(df, numeric, categorical)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want, strict=True)


@pytest.mark.parametrize("build,old", [(_regression, _old_regression_matrix),
                                       (_every_level, _old_every_level_matrix)],
                         ids=["regression", "every_level"])
def test_one_row_and_no_rows(build, old):
    for df in (_frame(7, 1), _frame(7, 40).iloc[:0]):
        for numeric, categorical in [(NUMERIC, CATEGORICAL), ((), ("band",)), ((), ())]:
            np.testing.assert_array_equal(build(df, numeric, categorical),
                                          old(df, numeric, categorical), strict=True)


@pytest.mark.parametrize("build,old", [(_regression, _old_regression_matrix),
                                       (_every_level, _old_every_level_matrix)],
                         ids=["regression", "every_level"])
def test_a_simulated_study_through_the_real_loader(tmp_path, build, old):
    tidy = tidy_study(300, seed=3, tmp_path=tmp_path)
    plan = load_plan(None)
    for prog, d in [("all", tidy), *tidy.groupby("programme")]:
        np.testing.assert_array_equal(
            build(d, plan.numeric_covariates, plan.categorical_covariates),
            old(d, plan.numeric_covariates, plan.categorical_covariates), strict=True)


def test_the_two_designs_differ_where_documented():
    # so that the comparisons above cannot pass by both paths giving the same array
    df = _frame(1, 40)
    reg = _regression(df, ("constant",), ("band",))
    every = _every_level(df, ("constant",), ("band",))
    levels = sorted(df["band"].unique())
    held = df["band"].value_counts()
    assert every.shape == (40, 1 + len(levels))  # the constant, one column per level
    # the regression design: no constant, no reference level, no level held by one person
    assert reg.shape == (40, sum(held[lev] >= 2 for lev in levels[1:]))
    assert held["65+"] == 1
