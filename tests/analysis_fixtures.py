"""Shared data for the analysis tests: the R sleep data and small simulated studies."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import tidy_from_exports
from analysis.simulate import Truth, simulate_study, to_wide

# R's datasets::sleep (Student 1908): extra sleep by drug group.
SLEEP_GROUP1 = np.array([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0])
SLEEP_GROUP2 = np.array([1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4])


def tidy_study(n: int = 1500, seed: int = 5, truth: Truth | None = None, tmp_path=None,
               **kw) -> pd.DataFrame:
    """A simulated study passed through the real loader (custom export)."""
    df = simulate_study(n, seed=seed, truth=truth, **kw)
    path = tmp_path / f"study_{seed}.csv"
    df.to_csv(path, index=False)
    return tidy_from_exports([path])


def write_exports(tmp_path, n: int = 1200, seed: int = 11, truth: Truth | None = None):
    """The same simulated study as a custom export and as oTree's wide export."""
    df = simulate_study(n, seed=seed, truth=truth)
    custom, wide = tmp_path / "custom.csv", tmp_path / "all_apps_wide.csv"
    df.to_csv(custom, index=False)
    to_wide(df).to_csv(wide, index=False)
    return df, custom, wide


def design_frame(y, programme, manager, partner=None) -> pd.DataFrame:
    """A minimal tidy-like frame for the estimators."""
    n = len(y)
    return pd.DataFrame({
        "programme": programme, "manager": manager,
        "partner": partner if partner is not None else np.where(np.arange(n) % 2, "same", "other"),
        "attractiveness": np.asarray(y, dtype=float)})
