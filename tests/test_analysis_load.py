"""The loader: both export formats, several files, demo/bot rows, withdrawals, scoring,
codebook and Stata output, and one-line errors for bad input."""
from __future__ import annotations

import json
import subprocess
import pathlib
import sys

import numpy as np
import pandas as pd
import pytest

from analysis import codebook as cbk
from analysis.contract import TIDY_COLUMNS
from analysis.errors import AnalysisInputError
from analysis.load import read_export, score_scales, tidy_from_exports, write_tidy
from analysis.simulate import simulate_study, to_wide
from analysis_fixtures import write_exports


def test_wide_and_custom_exports_give_the_same_tidy_table(tmp_path):
    _, custom, wide = write_exports(tmp_path, n=300)
    a, b = tidy_from_exports([custom]), tidy_from_exports([wide])
    assert list(a.columns) == list(TIDY_COLUMNS) == list(b.columns)
    consented = a.consented.to_numpy(bool)
    for col in TIDY_COLUMNS:
        x, y = a.loc[consented, col], b.loc[consented, col]
        assert x.astype("str").fillna("<NA>").tolist() == y.astype("str").fillna("<NA>").tolist(), col
    assert (~b.loc[~consented, "assigned"].astype(bool)).all()


def test_demo_and_bot_rows_are_dropped_and_files_are_merged_unique(tmp_path):
    df = simulate_study(100, seed=3, n_demo=2)
    df.loc[5, "is_bot"] = 1
    p1, p2 = tmp_path / "a.csv", tmp_path / "b.csv"
    df.to_csv(p1, index=False)
    df.iloc[:50].to_csv(p2, index=False)  # the same class exported twice (overlap)
    notes: list[str] = []
    tidy = tidy_from_exports([p1, p2], messages=notes)
    assert len(tidy) == 99  # 100 + 2 demo - 2 demo - 1 bot; overlap merged
    assert not tidy.participant_code.str.startswith("demo").any()
    assert tidy.duplicated(["session_code", "participant_code"]).sum() == 0
    assert any("demo or bot" in n for n in notes)


def test_withdrawn_participants_keep_only_identity(tmp_path):
    df = simulate_study(200, seed=4, n_demo=0)
    src = tmp_path / "x.csv"
    df.to_csv(src, index=False)
    codes = df.withdrawal_code[df.withdrawal_code != ""].iloc[:3].tolist()
    wfile = tmp_path / "withdrawals.txt"
    wfile.write_text("withdrawal_code\n" + "\n".join(c.lower() for c in codes) + "\nZZZZ-ZZZZ\n")
    notes: list[str] = []
    tidy = tidy_from_exports([src], wfile, notes)
    gone = tidy[tidy.withdrawn.astype(bool)]
    assert len(gone) == 3
    others = [c for c in TIDY_COLUMNS if c not in ("participant_code", "session_code", "withdrawn")]
    assert gone[others].isna().all().all()
    assert any("1 codes not found" in n for n in notes)
    cb = cbk.build_codebook(tidy, {}).set_index("variable")
    assert cb.loc["programme", "n_valid"] + cb.loc["programme", "n_missing"] == 197


def test_scale_score_needs_half_the_items_answered():
    df = pd.DataFrame({c: [np.nan] * 3 for c in TIDY_COLUMNS})
    df.loc[0, ["collab_1", "collab_2", "collab_3"]] = [7, 5, 6]  # 3 of 5: scored
    df.loc[1, ["collab_1", "collab_2"]] = [7, 5]  # 2 of 5: missing
    df.loc[2, ["autonomy_1", "autonomy_2"]] = [2, 3]  # 2 of 3: scored
    s = score_scales(df)
    assert s.collaboration.iloc[0] == pytest.approx(6.0)
    assert np.isnan(s.collaboration.iloc[1])
    assert s.autonomy.iloc[2] == pytest.approx(2.5)


def test_wide_export_accepts_true_false_and_derives_fields(tmp_path):
    df = simulate_study(120, seed=6, n_demo=0)
    wide = to_wide(df)
    wide["collab_experiment.1.player.completed"] = wide["collab_experiment.1.player.completed"].replace(
        {"1": "True", "0": "False"})
    wide = wide.drop(columns=["session.config.block_size"])  # optional: tolerated
    p = tmp_path / "w.csv"
    wide.to_csv(p, index=False)
    kind, rows = read_export(p)
    assert kind == "wide"
    tidy = tidy_from_exports([p])
    assert tidy.completed.sum() == (df.completed.astype(str) == "1").sum()
    assert (tidy.assigned == tidy.manager.notna()).all()
    assert tidy.last_page.notna().all()


def test_tidy_csv_round_trips_as_report_input(tmp_path):
    _, custom, _ = write_exports(tmp_path, n=200)
    a = tidy_from_exports([custom])
    out = tmp_path / "tidy.csv"
    write_tidy(a, out)
    kind, _ = read_export(out)
    b = tidy_from_exports([out])
    assert kind == "tidy"
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_stata_file_has_value_and_variable_labels(tmp_path):
    _, custom, _ = write_exports(tmp_path, n=200)
    tidy = tidy_from_exports([custom])
    path = cbk.write_stata(tidy, tmp_path / "t.dta", {})
    with pd.io.stata.StataReader(path) as r:
        labels = r.value_labels()
        var_labels = r.variable_labels()
    assert labels["programme"][1].startswith("nursing")
    assert labels["attract_1"][7] == "Strongly agree"
    assert var_labels["manager"] == "Manager arm (factor 1)"
    back = pd.read_stata(path, convert_categoricals=False)
    assert back.attract_1.dropna().astype(int).tolist() == tidy.attract_1.dropna().astype(int).tolist()


def test_codebook_carries_question_texts_per_language(tmp_path):
    instr = {lang: {"questions": {"attract_1": {"label": f"text-{lang}", "scale": "agree7"},
                                  "programme": {"label": "Programme?", "choices": {"nursing": "Sykepleie"}}},
                    "scales": {"agree7": {"7": "Helt enig"}}} for lang in ("en", "nb", "da")}
    d = tmp_path / "instrument"
    d.mkdir()
    for lang, v in instr.items():
        (d / f"{lang}.json").write_text(json.dumps(v), encoding="utf-8")
    cb = cbk.build_codebook(None, cbk.load_instrument(d)).set_index("variable")
    assert cb.loc["attract_1", ["question_en", "question_nb", "question_da"]].tolist() == [
        "text-en", "text-nb", "text-da"]
    assert "7 = Helt enig" in cb.loc["attract_1", "value_labels"]
    assert "nursing = Sykepleie" in cb.loc["programme", "value_labels"]
    md = cbk.codebook_markdown(cb.reset_index())
    assert md.count("\n| ") == len(TIDY_COLUMNS) + 1


@pytest.mark.parametrize("content, problem", [
    ("", "file is empty"),
    ("name,age\nx,1\n", "not an oTree export"),
    ("participant_code,session_code\n", "no participant rows"),
])
def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path, content, problem):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(AnalysisInputError) as exc:
        tidy_from_exports([p])
    assert str(p) in str(exc.value) and problem in str(exc.value) and "\n" not in str(exc.value)


def test_missing_essential_column_and_bad_codes_are_named(tmp_path):
    df = simulate_study(50, seed=8, n_demo=0)
    p = tmp_path / "m.csv"
    df.drop(columns=["collab_3"]).to_csv(p, index=False)
    with pytest.raises(AnalysisInputError, match="missing essential column 'collab_3'"):
        tidy_from_exports([p])
    wide = to_wide(df).drop(columns=["collab_experiment.1.player.manager"])
    wide.to_csv(p, index=False)
    with pytest.raises(AnalysisInputError, match="collab_experiment.1.player.manager"):
        tidy_from_exports([p])
    bad = df.copy()
    bad.loc[bad.programme != "", "programme"] = "nurse"
    bad.to_csv(p, index=False)
    with pytest.raises(AnalysisInputError, match="column 'programme': unexpected value 'nurse'"):
        tidy_from_exports([p])
    bad = df.copy()
    bad.loc[bad.attract_1 != "", "attract_1"] = 9
    bad.to_csv(p, index=False)
    with pytest.raises(AnalysisInputError, match="outside 1-7"):
        tidy_from_exports([p])


def _as_2026_1(df: pd.DataFrame) -> pd.DataFrame:
    """An export of instrument 2026.1: no columns added by 2026.2."""
    from analysis.contract import ADDED_IN
    old = df.drop(columns=[c for c in ADDED_IN["2026.2"] if c in df.columns])
    return old.assign(instrument_version="2026.1")


@pytest.mark.parametrize("fmt", ["custom", "wide"])
def test_an_export_of_instrument_2026_1_loads_with_the_new_columns_empty_and_noted(tmp_path, fmt):
    from analysis.contract import ADDED_IN
    from analysis.simulate import simulate_study, to_wide
    df = simulate_study(120, seed=3)
    path = tmp_path / f"old_{fmt}.csv"
    if fmt == "custom":
        _as_2026_1(df).to_csv(path, index=False)
    else:
        w = to_wide(df.assign(instrument_version="2026.1"))
        w = w.drop(columns=[c for c in w.columns
                            if c.startswith("collab_experiment.") and c.split(".")[-1] in ADDED_IN["2026.2"]])
        w.to_csv(path, index=False)
    notes: list[str] = []
    tidy = tidy_from_exports([path], messages=notes)
    added = [c for c in ADDED_IN["2026.2"] if c in tidy.columns]
    assert added and tidy[added].isna().all().all()
    absent = next(n for n in notes if "no column" in n)
    assert "2026.1" in absent and all(c in absent for c in added)
    versions = next(n for n in notes if n.startswith("instrument versions"))
    assert "2026.1" in versions and "2026.2" not in versions


def test_a_tidy_file_mixing_versions_is_reported_by_version(tmp_path):
    from analysis.simulate import simulate_study
    new = simulate_study(400, seed=8)
    old = _as_2026_1(simulate_study(400, seed=9))
    old["session_code"] = old["session_code"] + "old"
    a, b = tmp_path / "new.csv", tmp_path / "old.csv"
    new.to_csv(a, index=False)
    old.to_csv(b, index=False)
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "analysis", "report", a, b, "--out", out, "--draws", "50",
                          "--quiet"], cwd=pathlib.Path(__file__).resolve().parents[1],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    bv = pd.read_csv(out / "by_version.csv", dtype={"instrument_version": str})
    assert set(bv.instrument_version) == {"2026.1", "2026.2"}
    tidy = pd.read_csv(out / "tidy.csv", dtype={"instrument_version": str})
    for v, d in bv.groupby("instrument_version"):  # each version's own estimate, on its own people
        assert (d.assigned == (tidy.assigned.eq(1) & tidy.instrument_version.eq(v)).sum()).all()
    html = (out / "report.html").read_text()
    assert "By instrument version" in html and "instrument versions: 2026.1" in html
    assert tidy.loc[tidy.instrument_version == "2026.1", "realism"].isna().all()
