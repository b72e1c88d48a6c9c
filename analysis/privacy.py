"""Small cells before tidy data leave the analysis: programme x site x age band x gender.

A combination held by fewer than ``k`` people (5 by default) can point at a person in a
class. :func:`small_cells` finds them (the loader warns); :func:`coarsen` recodes only
the people in such combinations, step by step, until every combination has at least
``k`` people or nothing more can be given up:

1. gender set to missing (an optional question),
2. age band merged into two bands (``le24``: 24 or younger, ``ge25``: 25 or older),
3. age band set to missing,
4. site set to missing.

Programme is the design's stratum and is never changed; a programme smaller than ``k``
is reported as remaining. Every change is counted for the report.
"""
from __future__ import annotations

import pandas as pd

KEYS = ("programme", "site", "age_band", "gender")
MERGED_AGE = {"le21": "le24", "22_24": "le24", "25_29": "ge25", "30_39": "ge25", "ge40": "ge25"}
K = 5


def _people(tidy: pd.DataFrame) -> pd.Series:
    """Rows that carry answers (a declined or withdrawn row has no values to combine)."""
    return tidy["programme"].notna()


def small_cells(tidy: pd.DataFrame, k: int = K) -> pd.DataFrame:
    """Combinations of :data:`KEYS` held by fewer than ``k`` people (missing is a value).

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (one row per participant, the contract's columns).
    k : int
        The smallest count that is not reported.

    Returns
    -------
    DataFrame
        One row per small combination with its count ``n``.
    """
    d = tidy.loc[_people(tidy), list(KEYS)].astype("object").fillna("(missing)")
    counts = d.value_counts().rename("n").reset_index()
    return counts[counts["n"] < k].sort_values(list(KEYS)).reset_index(drop=True)


def _in_small(tidy: pd.DataFrame, k: int) -> pd.Series:
    d = tidy[list(KEYS)].astype("object").fillna("(missing)")
    size = d.groupby(list(KEYS), dropna=False)["programme"].transform("size")
    return _people(tidy) & (size < k)


def coarsen(tidy: pd.DataFrame, k: int = K) -> tuple[pd.DataFrame, list[str]]:
    """Recode age band and gender (then site) of people in small combinations.

    Returns
    -------
    tidy : DataFrame
        A copy; only the people in small combinations are changed.
    changes : list of str
        What was changed, step by step, and what remains below ``k``.
    """
    out = tidy.copy()
    for col in ("age_band", "gender", "site"):
        out[col] = out[col].astype("object")
    changes = []
    def missing(s: pd.Series) -> pd.Series:
        return pd.Series(None, index=s.index, dtype="object")
    steps = (("gender", "set gender to missing", missing),
             ("age_band", "merged age bands (le24 / ge25)", lambda s: s.map(MERGED_AGE).fillna(s)),
             ("age_band", "set age band to missing", missing),
             ("site", "set site to missing", missing))
    for col, what, recode in steps:
        small = _in_small(out, k)
        if not small.any():
            break
        before = out.loc[small, col]
        after = recode(before)
        changed = (before.astype("object").fillna("<NA>") != after.astype("object").fillna("<NA>"))
        if changed.any():
            out.loc[small, col] = after
            changes.append(f"{what} for {int(changed.sum())} people")
    left = small_cells(out, k)
    if len(left):
        changes.append(f"{len(left)} combinations still below {k} ({int(left.n.sum())} people; "
                       "programme is never coarsened)")
    return out, changes


def privacy_notes(tidy: pd.DataFrame, coarsen_cells: bool, k: int = K
                  ) -> tuple[pd.DataFrame, list[str]]:
    """Warn about small combinations and, when asked, coarsen them (what the CLI calls).

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (one row per participant, the contract's columns).
    coarsen_cells : bool
        Coarsen the small combinations instead of only warning.
    k : int
        The smallest count that is not reported.
    """
    small = small_cells(tidy, k)
    if small.empty:
        return tidy, []
    notes = [f"privacy: {len(small)} combinations of programme x site x age band x gender have fewer "
             f"than {k} people ({int(small.n.sum())} people)"
             + ("" if coarsen_cells else "; --coarsen recodes them before the tidy data are written")]
    if coarsen_cells:
        tidy, changes = coarsen(tidy, k)
        notes.append("privacy: coarsened: " + "; ".join(changes))
    return tidy, notes
