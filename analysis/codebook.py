"""The codebook (CSV and Markdown) and the Stata file with value labels.

Question texts come from the apps' instrument files
(``collab_experiment/instrument/{en,nb,da}.json``), read as data: importing the app
would import oTree. Without those files the codebook still lists every variable with
the contract's English labels.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import contract
from .contract import (AGREE7, BOOL_COLUMNS, CATEGORIES, COLUMN_LABELS, FLOAT_COLUMNS,
                       INT_COLUMNS, SCALES, TIDY_COLUMNS, YEAR_LABELS, min_answered)

#: The codebook shows the master (English) first.
LANGUAGES = ("en", *(lang for lang in contract.LANGUAGES if lang != "en"))
INSTRUMENT_DIR = Path(__file__).resolve().parent.parent / "collab_experiment" / "instrument"

YESNO = {0: "No", 1: "Yes"}


def load_instrument(directory: str | Path | None = None) -> dict[str, dict]:
    """The instrument texts per language that exist (``{}`` when none are found).

    Parameters
    ----------
    directory : path, optional
        Folder with ``<language>.json``; default the app's instrument folder.
    """
    d = Path(directory) if directory is not None else INSTRUMENT_DIR
    out = {}
    for lang in LANGUAGES:
        p = d / f"{lang}.json"
        if p.is_file():
            try:
                out[lang] = json.loads(p.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
    return out


def _type(col: str) -> str:
    if col in BOOL_COLUMNS:
        return "boolean (0/1)"
    if col in INT_COLUMNS:
        return "integer"
    if col in FLOAT_COLUMNS:
        return "number"
    if col in CATEGORIES:
        return "categorical"
    return "string"


def value_labels(col: str, instrument: dict | None = None) -> dict:
    """Allowed values and their (English) labels for one column, in contract order.

    Parameters
    ----------
    col : str
        A tidy column name.
    instrument : dict, optional
        Texts per language (:func:`load_instrument`); default: read from the app's
        instrument folder.
    """
    en = (instrument or {}).get("en", {}).get("questions", {})
    if col in CATEGORIES:
        choices = en.get(col, {}).get("choices", {})
        return {k: choices.get(k, v) for k, v in CATEGORIES[col].items()}
    if col == "year_of_study":
        choices = en.get(col, {}).get("choices", {})
        return {k: choices.get(str(k), v) for k, v in YEAR_LABELS.items()}
    if col in BOOL_COLUMNS:
        return dict(YESNO)
    if any(col in items for items in SCALES.values()):
        scale = (instrument or {}).get("en", {}).get("scales", {}).get("agree7", {})
        return {k: scale.get(str(k), v) for k, v in AGREE7.items()}
    return {}


def build_codebook(tidy: pd.DataFrame | None = None, instrument: dict | None = None
                   ) -> pd.DataFrame:
    """One row per tidy column: label, type, allowed values, value labels, question texts.

    With ``tidy``, also the number of valid and missing values among people who did
    not withdraw (withdrawn rows contribute nothing).

    Parameters
    ----------
    tidy : DataFrame, optional
        The tidy table, for the counts of valid and missing values.
    instrument : dict, optional
        Texts per language (:func:`load_instrument`); default: read from the app's
        instrument folder.
    """
    instrument = load_instrument() if instrument is None else instrument
    rows = []
    base = None
    if tidy is not None:
        base = tidy[~tidy["withdrawn"].fillna(False).astype(bool)]
    for col in TIDY_COLUMNS:
        vl = value_labels(col, instrument)
        row = dict(variable=col, label=COLUMN_LABELS.get(col, _item_label(col)), type=_type(col),
                   allowed_values="; ".join(str(k) for k in vl) if vl else "",
                   value_labels="; ".join(f"{k} = {v}" for k, v in vl.items()))
        if col in SCALES:
            k = len(SCALES[col])
            row["allowed_values"] = "1-7"
            row["value_labels"] = (f"mean of answered items if at least {min_answered(k)} of {k} "
                                   "answered, else missing")
        for lang in LANGUAGES:
            q = instrument.get(lang, {}).get("questions", {}).get(col, {})
            row[f"question_{lang}"] = q.get("label", "")
        if base is not None:
            row["n_valid"] = int(base[col].notna().sum())
            row["n_missing"] = int(base[col].isna().sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _item_label(col: str) -> str:
    for scale, items in SCALES.items():
        if col in items:
            return f"{scale} item {items.index(col) + 1} (1-7)"
    return col


def codebook_markdown(cb: pd.DataFrame) -> str:
    """The codebook as a Markdown table (pipes in texts escaped).

    Parameters
    ----------
    cb : DataFrame
        The codebook (:func:`build_codebook`).
    """
    cols = list(cb.columns)

    def cell(v) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ") if pd.notna(v) else ""
    lines = ["# Codebook", "",
             "One row per participant who opened the link. Withdrawn participants keep only "
             "`participant_code`, `session_code` and `withdrawn = 1`.", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for _, r in cb.iterrows()]
    return "\n".join(lines) + "\n"


def write_codebook(cb: pd.DataFrame, directory: str | Path, stem: str = "codebook") -> list[Path]:
    """Write the codebook as ``<stem>.csv`` and ``<stem>.md``; returns both paths.

    Parameters
    ----------
    cb : DataFrame
        The codebook (:func:`build_codebook`).
    directory : path
        Output folder, created if missing.
    stem : str
        File name without extension.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    csv, md = d / f"{stem}.csv", d / f"{stem}.md"
    cb.to_csv(csv, index=False)
    md.write_text(codebook_markdown(cb), encoding="utf-8")
    return [csv, md]


def write_stata(tidy: pd.DataFrame, path: str | Path, instrument: dict | None = None) -> Path:
    """Write the tidy table as Stata 118 ``.dta`` with variable and value labels.

    Categorical codes become integers 1..k in contract order, labelled with their
    codes' English labels; booleans are 0/1 labelled No/Yes; Likert items keep 1-7.

    Parameters
    ----------
    path : path
        The ``.dta`` file to write.
    instrument : dict, optional
        Texts per language (:func:`load_instrument`); default: read from the app's
        instrument folder.
    """
    instrument = load_instrument() if instrument is None else instrument
    out = pd.DataFrame(index=tidy.index)
    labels: dict[str, dict[int, str]] = {}
    for col in TIDY_COLUMNS:
        s = tidy[col]
        vl = value_labels(col, instrument)
        if col in CATEGORIES:
            codes = list(CATEGORIES[col])
            out[col] = s.map({c: i + 1 for i, c in enumerate(codes)}).astype("Int16")
            labels[col] = {i + 1: f"{c}: {vl[c]}"[:80] for i, c in enumerate(codes)}
        elif col in BOOL_COLUMNS:
            out[col] = s.astype("Int8")
            labels[col] = dict(YESNO)
        elif col in INT_COLUMNS:
            out[col] = s.astype("Int32")
            if vl:
                labels[col] = {int(k): str(v)[:80] for k, v in vl.items()}
        elif col in FLOAT_COLUMNS:
            out[col] = s.astype("float64")
        else:
            out[col] = s.astype("str").fillna("")
    var_labels = {c: COLUMN_LABELS.get(c, _item_label(c))[:80] for c in TIDY_COLUMNS}
    out.to_stata(path, write_index=False, version=118, value_labels=labels,
                 variable_labels=var_labels)
    return Path(path)
