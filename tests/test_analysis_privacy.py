"""Privacy before tidy data are written: small programme x site x age band x gender cells are
reported and, with --coarsen, recoded until every combination has at least 5 people;
someone who declined has no language or site, whichever export they come from."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import numpy as np
import pandas as pd

from analysis.load import tidy_from_exports
from analysis.privacy import KEYS, coarsen, small_cells
from analysis.simulate import simulate_study, to_wide

REPO = pathlib.Path(__file__).resolve().parents[1]


def people(rows):
    """A tidy-like frame from (programme, site, age_band, gender, count) tuples."""
    out = []
    for prog, site, age, gender, n in rows:
        out += [dict(programme=prog, site=site, age_band=age, gender=gender)] * n
    return pd.DataFrame(out)


def test_small_cells_counts_missing_as_a_value_and_ignores_rows_without_answers():
    d = people([("nursing", "oslo", "le21", "woman", 6), ("nursing", "oslo", "le21", None, 2),
                ("teacher", "aarhus", "ge40", "man", 1), (None, None, None, None, 9)])
    small = small_cells(d)
    assert sorted(map(tuple, small[list(KEYS)].to_numpy())) == [
        ("nursing", "oslo", "le21", "(missing)"), ("teacher", "aarhus", "ge40", "man")]
    assert small.n.tolist() == [2, 1] or sorted(small.n) == [1, 2]


def test_coarsen_recodes_only_people_in_small_cells_step_by_step():
    d = people([("nursing", "oslo", "le21", "woman", 20),       # large: untouched
                ("nursing", "oslo", "le21", "man", 3),          # small: gender missing ...
                ("nursing", "oslo", "le21", "other", 2),        # ... together 5 -> done
                ("nursing", "oslo", "25_29", "man", 2),         # small: gender, then age merged
                ("nursing", "oslo", "30_39", "woman", 2),
                ("nursing", "oslo", "ge40", "man", 1),          # 2 + 2 + 1 = 5 people in ge25
                ("teacher", "aarhus", "22_24", "woman", 2)])    # a programme of 2: stays small
    out, changes = coarsen(d)
    assert (out.iloc[:20] == d.iloc[:20]).all().all()  # the large cell is unchanged
    assert out.programme.tolist() == d.programme.tolist()  # programme is never coarsened
    assert out.iloc[20:25].gender.isna().all() and (out.iloc[20:25].age_band == "le21").all()
    assert (out.iloc[25:30].age_band == "ge25").all() and out.iloc[25:30].gender.isna().all()
    left = small_cells(out)
    assert len(left) == 1 and left.programme.iloc[0] == "teacher" and left.n.iloc[0] == 2
    teacher = out[out.programme == "teacher"]
    assert teacher.age_band.isna().all() and teacher.site.isna().all()  # everything else given up
    assert changes[0].startswith("set gender to missing for 12 people")
    assert any("merged age bands" in c for c in changes)
    assert changes[-1].startswith("1 combinations still below 5")


def test_tidy_command_warns_and_coarsens_into_data_the_loader_reads_again(tmp_path):
    df = simulate_study(300, seed=8, n_demo=0)
    src = tmp_path / "export.csv"
    df.to_csv(src, index=False)
    warn = subprocess.run([sys.executable, "-m", "analysis", "tidy", src, "--out", tmp_path / "a" / "tidy.csv"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert warn.returncode == 0, warn.stderr
    assert "privacy:" in warn.stderr and "fewer than 5 people" in warn.stderr and "--coarsen" in warn.stderr
    res = subprocess.run([sys.executable, "-m", "analysis", "tidy", src, "--coarsen",
                          "--out", tmp_path / "b" / "tidy.csv"], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert "privacy: coarsened: set gender to missing for" in res.stderr
    again = tidy_from_exports([tmp_path / "b" / "tidy.csv"])  # coarsened codes are valid tidy data
    left = small_cells(again)
    assert left.empty or (left.age_band == "(missing)").all()
    assert set(again.age_band.dropna()) <= {"le21", "22_24", "25_29", "30_39", "ge40", "le24", "ge25"}
    raw = tidy_from_exports([src])
    assert len(small_cells(raw)) > len(left)


def test_declined_participants_have_no_language_or_site_in_wide_or_custom_exports(tmp_path):
    df = simulate_study(200, seed=9, n_demo=0)
    custom, wide = tmp_path / "custom.csv", tmp_path / "wide.csv"
    df.to_csv(custom, index=False)
    w = to_wide(df)
    w["session.config.language"] = "nb"  # the wide export always has the session's settings
    w["session.config.site"] = "oslo"
    w.to_csv(wide, index=False)
    a = tidy_from_exports([wide]).set_index("participant_code").sort_index()
    b = tidy_from_exports([custom]).set_index("participant_code").sort_index()
    declined = ~a.consented.astype(bool)
    assert declined.sum() > 5
    for col in ("language", "site", "instrument_version", "programme", "age_band"):
        assert a.loc[declined, col].isna().all(), col
        assert b.loc[declined, col].isna().all(), col
    assert a.loc[~declined, "language"].notna().all()
    assert np.array_equal(a.loc[declined].isna().to_numpy(), b.loc[declined].isna().to_numpy())


def test_report_coarsen_estimates_on_the_coarsened_table_and_lists_it_as_a_deviation(tmp_path):
    df = simulate_study(300, seed=8, n_demo=0)
    src = tmp_path / "export.csv"
    df.to_csv(src, index=False)
    res = subprocess.run([sys.executable, "-m", "analysis", "report", src, "--coarsen", "--draws", "50",
                          "--out", tmp_path / "r"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "privacy: coarsened" in res.stderr
    dev = pd.read_csv(tmp_path / "r" / "deviations.csv")
    assert dev[dev.kind == "data"].detail.str.startswith("privacy: coarsened").any()
    written = tidy_from_exports([tmp_path / "r" / "tidy.csv"])
    assert len(small_cells(written)) < len(small_cells(tidy_from_exports([src])))
    assert "privacy: coarsened" in (tmp_path / "r" / "report.html").read_text()
