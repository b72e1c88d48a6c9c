"""The loader on exports written by the real apps: oTree's bots run in a throw-away copy
of the project (`otree test classroom 12 --export`), then both export formats are read.

A failing bot run fails here too: these tests are about the real export.
"""
from __future__ import annotations

import pathlib
import subprocess
import sys

import pandas as pd
import pytest

from analysis.contract import TIDY_COLUMNS
from analysis.errors import AnalysisInputError
from analysis.load import tidy_from_exports
from conftest import copy_project

REPO = pathlib.Path(__file__).resolve().parents[1]
OTREE = pathlib.Path(sys.executable).with_name("otree")


@pytest.fixture(scope="module")
def real_exports(tmp_path_factory):
    work = copy_project(tmp_path_factory.mktemp("project"), with_bots=True)
    out = tmp_path_factory.mktemp("export")
    res = subprocess.run([str(OTREE), "test", "classroom", "12", "--export", str(out)], cwd=work,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and (out / "all_apps_wide.csv").exists(), res.stderr.strip()[-2000:]
    # Bots are dropped by design; mark them as people to read their rows.
    wide = pd.read_csv(out / "all_apps_wide.csv", dtype=str, keep_default_na=False)
    wide["participant._is_bot"] = "0"
    wide.to_csv(out / "wide.csv", index=False)
    custom = pd.read_csv(out / "collab_experiment_custom.csv", dtype=str, keep_default_na=False)
    custom["is_bot"] = "0"
    custom.to_csv(out / "custom.csv", index=False)
    return out


def test_bot_rows_of_a_real_export_are_dropped(real_exports):
    for name in ("all_apps_wide.csv", "collab_experiment_custom.csv"):
        with pytest.raises(AnalysisInputError, match="no participants left after dropping 12 demo or bot rows"):
            tidy_from_exports([real_exports / name])


def test_real_wide_and_custom_exports_agree_for_everyone_who_consented(real_exports):
    a = tidy_from_exports([real_exports / "wide.csv"]).sort_values("participant_code").reset_index(drop=True)
    b = tidy_from_exports([real_exports / "custom.csv"]).sort_values("participant_code").reset_index(drop=True)
    assert len(a) == len(b) == 12
    assert a.participant_code.tolist() == b.participant_code.tolist()
    ok = a.consented.astype(bool).to_numpy()
    assert ok.any()
    for col in TIDY_COLUMNS:
        x = a.loc[ok, col].astype("str").fillna("<NA>").tolist()
        y = b.loc[ok, col].astype("str").fillna("<NA>").tolist()
        assert x == y, col
    assigned = a[a.assigned.astype(bool)]
    assert assigned.manager.isin(["trust", "control"]).all() and assigned.block.notna().all()


def test_report_runs_on_a_real_export(real_exports, tmp_path):
    res = subprocess.run([sys.executable, "-m", "analysis", "report", str(real_exports / "wide.csv"),
                          "--out", str(tmp_path), "--draws", "100", "--quiet"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    eff = pd.read_csv(tmp_path / "effects.csv")
    assert len(eff) > 0 and (tmp_path / "report.html").exists()


def test_real_wide_and_custom_exports_agree_for_those_who_declined(real_exports):
    # The custom export stores nothing but flow columns for a decliner; the wide export has
    # the session's language and site beside them, which the loader must not fill in.
    a = tidy_from_exports([real_exports / "wide.csv"]).set_index("participant_code").sort_index()
    b = tidy_from_exports([real_exports / "custom.csv"]).set_index("participant_code").sort_index()
    declined = ~a.consented.astype(bool)
    assert declined.sum() == 1  # bot 12 declines
    assert a.loc[declined, "language"].isna().all() and a.loc[declined, "site"].isna().all()
    for col in [c for c in TIDY_COLUMNS if c != "participant_code"]:
        x = a.loc[declined, col].astype("str").fillna("<NA>").tolist()
        y = b.loc[declined, col].astype("str").fillna("<NA>").tolist()
        assert x == y, col
