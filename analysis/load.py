"""Read oTree exports (all-apps-wide or the project's custom export) into the tidy table.

Several files at once (classes, sites, servers) are stacked and made unique by session
and participant code. Demo and bot rows are dropped, a withdrawals file is applied, the
scales are scored, and every value is checked against the contract, so a wrong code
stops with a message naming the file and column instead of becoming a wrong number.

Withdrawn participants keep one row with ``participant_code``, ``session_code`` and
``withdrawn = True``; every other value is blank, so they appear in no estimate, table
or codebook statistic (they are only counted, as withdrawn, in the flow table).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .contract import (ADDED_IN, ATTENTION_PASS_VALUE, BOOL_COLUMNS, CATEGORIES, CUSTOM_EXTRAS,
                       DECLINER_KEEPS, FLOAT_COLUMNS, LIKERT_ITEMS, INT_COLUMNS, MANIPULATION_CHECKS, RATED_ITEMS, SCALES,
                       TIDY_COLUMNS, min_answered)
from .errors import AnalysisInputError

WIDE_APP = "collab_experiment"
CONSENT_APP = "consent"
#: Columns without which an export cannot be analysed.
ESSENTIAL = ("participant_code", "session_code", "consented", "programme", "manager",
             "partner", *RATED_ITEMS)
_TRUE = {"1", "1.0", "true", "True", "TRUE", "yes"}
_FALSE = {"0", "0.0", "false", "False", "FALSE", "no"}


def shown_path(path: str | Path, cwd: str | Path | None = None) -> str:
    """A file's name as reports and notes show it: relative to the current folder when the
    file is inside it, else its name alone; never an absolute path (a shared report must
    not show a researcher's home folder).

    Parameters
    ----------
    path : path
        The file.
    cwd : path, optional
        The folder paths are shown relative to (default: the current one).
    """
    p = Path(path)
    base = Path(cwd) if cwd is not None else Path.cwd()
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except (ValueError, OSError):
        return p.name


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AnalysisInputError(path, "file not found") from None
    except IsADirectoryError:
        raise AnalysisInputError(path, "is a directory, not a CSV file") from None
    if not raw.strip():
        raise AnalysisInputError(path, "file is empty")
    try:
        text = raw.decode("utf-8-sig")  # oTree's csv_bom format starts with a BOM
    except UnicodeDecodeError:
        raise AnalysisInputError(path, "not a UTF-8 text file (is it an oTree CSV export?)") from None
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise AnalysisInputError(path, f"not a readable CSV file ({msg})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def detect_kind(columns: Iterable[str]) -> str | None:
    """Recognise an input by its columns: ``wide``, ``custom``, ``tidy`` or None."""
    cols = set(columns)
    if "participant.code" in cols:
        return "wide"
    if "participant_code" in cols:
        return "custom" if "is_demo" in cols or "withdrawal_code" in cols else "tidy"
    return None


def _blank_to_na(s: pd.Series) -> pd.Series:
    s = s.astype("str").str.strip()
    return s.mask(s.isin(["", "nan", "None", "NaN"]))


def _wide_to_rows(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Map oTree's all-apps-wide columns to contract names (round 1 of each app)."""
    def app_col(app: str, f: str) -> str | None:
        for r in ("1",):
            c = f"{app}.{r}.player.{f}"
            if c in df.columns:
                return c
        return None

    def get(col: str | None) -> pd.Series:
        if col is None or col not in df.columns:
            return pd.Series(pd.NA, index=df.index, dtype="str")
        return _blank_to_na(df[col])

    for c in ("participant.code", "session.code"):
        if c not in df.columns:
            raise AnalysisInputError(path, f"missing essential column {c!r}")
    needed = {"consented": app_col(CONSENT_APP, "consented")}
    needed.update({f: app_col(WIDE_APP, f) for f in ("programme", "manager", "partner",
                                                     *RATED_ITEMS)})
    for f, c in needed.items():
        if c is None:
            app = CONSENT_APP if f == "consented" else WIDE_APP
            raise AnalysisInputError(path, f"missing essential column '{app}.1.player.{f}'")
    out = pd.DataFrame(index=df.index)
    out["participant_code"] = get("participant.code")
    out["session_code"] = get("session.code")
    collab_fields = [c for c in TIDY_COLUMNS if c not in ("participant_code", "session_code")]
    for f in (*collab_fields, *CUSTOM_EXTRAS):
        out[f] = get(app_col(WIDE_APP, f))
    out["consented"] = get(needed["consented"])
    out["consent_version"] = get(app_col(CONSENT_APP, "consent_version"))
    # docs/instrument.md: campus is stored as site when the session does not fix the site.
    out["site"] = out["site"].fillna(get("session.config.site")).fillna(out["campus"])
    out["language"] = get(app_col(CONSENT_APP, "language")).fillna(out["language"]).fillna(
        get("session.config.language"))
    out["block_size"] = out["block_size"].fillna(get("session.config.block_size"))
    # As the custom export (collab_experiment/tidy.py): someone who did not consent has
    # nothing but flow columns, so no language or site from the session settings either.
    agreed = out["consented"].isin(list(_TRUE)).to_numpy()
    out.loc[~agreed, ["language", "site", "block_size"]] = pd.NA
    out["assigned"] = out["manager"].notna().map({True: "1", False: "0"})
    out["last_page"] = get("participant._current_page_name")
    out["is_demo"] = get("session.is_demo")
    out["is_bot"] = get("participant._is_bot")
    return out


def _parse_bool(s: pd.Series, col: str, path: Path) -> pd.Series:
    bad = s.notna() & ~s.isin(_TRUE | _FALSE)
    if bad.any():
        raise AnalysisInputError(path, f"column {col!r}: {s[bad].iloc[0]!r} is not a yes/no value")
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[s.isin(_TRUE)] = True
    out[s.isin(_FALSE)] = False
    return out


def coerce(df: pd.DataFrame, path: Path | str) -> pd.DataFrame:
    """Give contract columns their types and check codes and ranges.

    Parameters
    ----------
    df : DataFrame
        Contract-named columns as read (strings).
    path : path
        The file read, named in error messages.

    Raises
    ------
    AnalysisInputError
        A value outside the contract (an unknown code, a Likert answer outside 1-7).
    """
    path = Path(path)
    out = df.copy()
    # Strip spaces only where codes are compared (stripping 100k strings per column is
    # slow); numbers are parsed by to_numeric, which ignores surrounding spaces.
    to_strip = {*BOOL_COLUMNS, *CATEGORIES, "participant_code", "session_code", "withdrawal_code",
                "is_demo", "is_bot"}
    for col in out.columns:
        if out[col].dtype != "str" and out[col].dtype != object:
            out[col] = out[col].astype("str").mask(out[col].isna())
        if col in to_strip:
            out[col] = _blank_to_na(out[col])
        else:
            out[col] = out[col].mask(out[col].isin(["", "nan", "None", "NaN"]))
    for col in BOOL_COLUMNS:
        if col in out:
            out[col] = _parse_bool(out[col], col, path)
    for col in (*INT_COLUMNS, *FLOAT_COLUMNS, "attention", "block_size"):
        if col not in out:
            continue
        num = pd.to_numeric(out[col], errors="coerce")
        bad = out[col].notna() & num.isna()
        if bad.any():
            raise AnalysisInputError(path, f"column {col!r}: {out[col][bad].iloc[0]!r} is not a number")
        if col in INT_COLUMNS or col in ("attention", "block_size", "seed"):
            if (num.dropna() % 1 != 0).any():
                raise AnalysisInputError(path, f"column {col!r}: expected whole numbers")
            num = num.astype("Int64")
        if col in LIKERT_ITEMS:
            badr = num.notna() & ((num < 1) | (num > 7))
            if badr.any():
                raise AnalysisInputError(path, f"column {col!r}: {num[badr].iloc[0]} is outside 1-7")
        if col == "year_of_study":
            badr = num.notna() & ((num < 1) | (num > 4))
            if badr.any():
                raise AnalysisInputError(path, f"column 'year_of_study': {num[badr].iloc[0]} is outside 1-4")
        out[col] = num
    for col, codes in CATEGORIES.items():
        if col in out:
            bad = out[col].notna() & ~out[col].isin(list(codes))
            if bad.any():
                raise AnalysisInputError(
                    path, f"column {col!r}: unexpected value {out[col][bad].iloc[0]!r} "
                          f"(allowed: {', '.join(codes)})")
    return out


def score_scales(df: pd.DataFrame) -> pd.DataFrame:
    """Score each scale as the mean of its answered items.

    A score needs at least half of the scale's items answered (rounded up: 2 of 3,
    2 of 4, 3 of 5); otherwise it is missing. The attention item is not a psm item.

    Parameters
    ----------
    df : DataFrame
        Rows with the scales' item columns.
    """
    out = df.copy()
    for scale, items in SCALES.items():
        block = out[list(items)].astype("float64")
        answered = block.notna().sum(axis=1)
        score = block.mean(axis=1, skipna=True)
        out[scale] = score.where(answered >= min_answered(len(items))).astype("float64")
    return out


def _derive(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    if "attention" in out:
        derived = (out["attention"] == ATTENTION_PASS_VALUE).astype("boolean").mask(out["attention"].isna())
        out["attention_pass"] = out["attention_pass"].fillna(derived)
    for ans, (factor, col) in MANIPULATION_CHECKS.items():
        derived = (out[ans] == out[factor]).astype("boolean").mask(out[ans].isna())
        out[col] = out[col].fillna(derived)
    for col in ("consented", "assigned", "completed", "withdrawn"):
        out[col] = out[col].fillna(False)
    out.loc[out["manager"].notna(), "assigned"] = True
    return out


def read_export(path: str | Path) -> tuple[str, pd.DataFrame]:
    """Read one export into contract-named, typed columns (plus the custom extras).

    Parameters
    ----------
    path : path
        An oTree wide or custom export, or a tidy CSV.

    Returns
    -------
    kind : str
        ``wide``, ``custom`` or ``tidy``.
    rows : DataFrame
    """
    path = Path(path)
    df = _read_csv(path)
    kind = detect_kind(df.columns)
    if kind is None:
        raise AnalysisInputError(
            path, "not an oTree export (no 'participant.code' or 'participant_code' column)")
    if df.empty:
        raise AnalysisInputError(path, "export has a header but no participant rows")
    added = [c for cols in ADDED_IN.values() for c in cols]
    present = ({c.split(".")[-1] for c in df.columns if c.startswith(f"{WIDE_APP}.")}
               if kind == "wide" else set(df.columns))
    absent = [c for c in added if c not in present and c in (*TIDY_COLUMNS, *CUSTOM_EXTRAS)]
    if kind == "wide":
        rows = _wide_to_rows(df, path)
    else:
        missing = [c for c in ESSENTIAL if c not in df.columns]
        if missing:
            raise AnalysisInputError(path, f"missing essential column {missing[0]!r}")
        rows = df.copy()
        for c in (*TIDY_COLUMNS, *CUSTOM_EXTRAS):
            if c not in rows:
                rows[c] = pd.Series(pd.NA, index=rows.index, dtype="str")
    rows = coerce(rows[[*TIDY_COLUMNS, *CUSTOM_EXTRAS]], path)
    if rows["participant_code"].isna().any():
        raise AnalysisInputError(path, "a row has no participant code")
    rows["source_file"] = str(path)
    rows.attrs["absent"] = absent
    return kind, rows


def read_withdrawals(path: str | Path) -> set[str]:
    """Read withdrawal codes: one per line, an optional ``withdrawal_code`` header.

    Parameters
    ----------
    path : path
        A text or CSV file of withdrawal codes.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError):
        raise AnalysisInputError(path, "withdrawals file not found") from None
    except UnicodeDecodeError:
        raise AnalysisInputError(path, "withdrawals file is not UTF-8 text") from None
    codes = set()
    for line in text.splitlines():
        code = line.split(",")[0].strip().strip('"').upper()
        if code and code != "WITHDRAWAL_CODE":
            codes.add(code)
    return codes


def tidy_from_exports(paths: Sequence[str | Path], withdrawals: str | Path | None = None,
                      messages: list[str] | None = None, include_bots: bool = False) -> pd.DataFrame:
    """Build the tidy participant table from one or more exports.

    Parameters
    ----------
    paths : sequence of path
        oTree all-apps-wide CSVs, custom exports or tidy CSVs, in any mix.
    withdrawals : path, optional
        File of withdrawal codes from the debrief.
    messages : list, optional
        Receives human-readable notes (rows dropped, codes not found).
    include_bots : bool
        Keep oTree bot rows. For dry runs only (``python -m analysis demo``): real
        data never contain bots, and a bot row in a real export is a test left behind.

    Returns
    -------
    DataFrame
        Columns ``TIDY_COLUMNS`` in order, one row per session and participant code.
    """
    notes = messages if messages is not None else []
    frames = []
    for p in paths:
        kind, rows = read_export(p)
        absent = rows.attrs.get("absent", [])
        frames.append(rows)
        notes.append(f"{shown_path(p)}: {kind} export, {len(rows)} rows")
        if absent:
            vers = sorted(rows["instrument_version"].dropna().astype(str).unique())
            notes.append(f"{shown_path(p)}: no column {', '.join(absent)} (an export of instrument "
                         f"{', '.join(vers) or 'version unknown'}, before they were added): left empty")
    df = pd.concat(frames, ignore_index=True)
    bots = df["is_bot"].isin(["1", "1.0", "True", "true"])
    drop = df["is_demo"].isin(["1", "1.0", "True", "true"]) | (bots & (not include_bots))
    if drop.any():
        notes.append(f"dropped {int(drop.sum())} demo or bot rows")
    if include_bots and bots.any():
        notes.append(f"kept {int(bots.sum())} bot rows (dry run: simulated participants)")
    df = df[~drop.to_numpy()].copy()
    if df.empty:
        raise AnalysisInputError(", ".join(str(p) for p in paths),
                                 f"no participants left after dropping {int(drop.sum())} demo or bot rows")
    df = _derive(df)
    # As the custom export (collab_experiment/tidy.py): someone who did not consent has
    # nothing stored but the flow columns, whatever the export format filled in.
    declined = ~df["consented"].fillna(False).astype(bool).to_numpy()
    blank = [c for c in TIDY_COLUMNS if c not in DECLINER_KEEPS]
    df.loc[declined, blank] = pd.NA
    # One row per session and participant: keep the furthest-progressed copy.
    progress = (df["completed"].astype(int) * 4 + df["assigned"].astype(int) * 2
                + df["consented"].astype(int))
    df = (df.assign(_progress=progress.to_numpy()).sort_values("_progress", kind="stable")
            .drop_duplicates(["session_code", "participant_code"], keep="last")
            .sort_index().drop(columns="_progress"))
    if withdrawals is not None:
        codes = read_withdrawals(withdrawals)
        wc = df["withdrawal_code"].astype("str").str.upper().str.strip()
        hit = wc.isin(codes).fillna(False).to_numpy(dtype=bool)
        found = set(wc[hit])
        notes.append(f"withdrawals: {int(hit.sum())} participants withdrawn"
                     + (f", {len(codes - found)} codes not found" if codes - found else ""))
        df.loc[hit, "withdrawn"] = True
    wd = df["withdrawn"].fillna(False).to_numpy(dtype=bool)
    keep = {"participant_code", "session_code", "withdrawn"}
    for col in df.columns:
        if col not in keep:
            df.loc[wd, col] = pd.NA
    df = score_scales(df)
    df.loc[wd, list(SCALES)] = np.nan
    notes.append(instrument_versions_note(df))
    return df[list(TIDY_COLUMNS)].reset_index(drop=True)


def instrument_versions_note(df: pd.DataFrame) -> str:
    """Which instrument versions the table holds, with the participants of each.

    Parameters
    ----------
    df : DataFrame
        Tidy rows (``instrument_version``; decliners and withdrawn rows count as unknown).
    """
    v = df["instrument_version"].astype("string")
    counts = v.dropna().value_counts().sort_index()
    parts = [f"{k} ({n} participants)" for k, n in counts.items()]
    missing = int(v.isna().sum())
    return ("instrument versions: " + (", ".join(parts) or "none recorded")
            + (f"; {missing} rows without a version (declined or withdrawn: no answers kept)"
               if missing else ""))


def write_tidy(df: pd.DataFrame, path: str | Path) -> None:
    """Write the tidy table as CSV (booleans as 0/1, missing as empty).

    Parameters
    ----------
    df : DataFrame
        The tidy table.
    path : path
        The CSV file to write.
    """
    out = df[list(TIDY_COLUMNS)].copy()
    for col in BOOL_COLUMNS:
        out[col] = out[col].astype("Int8")
    out.to_csv(path, index=False)
