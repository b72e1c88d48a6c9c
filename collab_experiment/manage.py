"""Operator commands: check the database before a class, back it up, reset it safely.

    python -m collab_experiment.manage preflight   # does the database fit these models?
    python -m collab_experiment.manage backup      # copy of SQLite / pg_dump of PostgreSQL
    python -m collab_experiment.manage reset       # backup first, then `otree resetdb`
    python -m collab_experiment.manage withdraw CODE [CODE …]   # a student's withdrawal

oTree has no migrations: a server started on a database made by other models fails in
the middle of a class, the first time it touches a changed column. `preflight` finds
that before students arrive and says what to do. Run from the project folder; uses
DATABASE_URL like oTree (default: the SQLite file db.sqlite3).
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys

import sqlalchemy

DEFAULT_URL = "sqlite:///db.sqlite3"
BACKUP_DIR = pathlib.Path("backups")


def database_url() -> str:
    """The database the commands work on: `DATABASE_URL` as oTree reads it (e.g.
    `postgres://user:password@host/db`), or the SQLite file `db.sqlite3` in the current
    folder when it is unset or empty. Contains the password: print it through `_safe`."""
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def expected_schema() -> dict[str, set[str]]:
    """Tables and columns that this code's models (oTree's and ours) need."""
    import collab_experiment  # noqa: F401  (defines the app's tables)
    import consent  # noqa: F401
    from collab_experiment.otree_glue import model_metadata

    return {name: {c.name for c in table.columns} for name, table in model_metadata().tables.items()}


def actual_schema(url: str) -> dict[str, set[str]]:
    """The tables and columns the database holds now.

    Args:
        url: the database's SQLAlchemy URL (`database_url()`).

    Returns table name -> set of column names; empty for a new database (a missing
    SQLite file is created, empty, by connecting to it).
    Raises `sqlalchemy.exc.DBAPIError` when the database cannot be reached.
    """
    engine = sqlalchemy.create_engine(url)
    try:
        inspector = sqlalchemy.inspect(engine)
        return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}
    finally:
        engine.dispose()


def schema_differences(expected: dict[str, set[str]], actual: dict[str, set[str]]) -> list[str]:
    """Readable differences; tables the database lacks are fine (oTree creates them).

    Args:
        expected: table name -> column names the models need (`expected_schema()`).
        actual: table name -> column names the database has (`actual_schema()`).

    Returns one line per table present in both with missing or extra columns (missing
    first), tables in name order; empty when the database fits. Tables only one side
    has are not reported: oTree creates those the database lacks, and leaves alone
    those only the database has.
    """
    problems = []
    for table in sorted(set(expected) & set(actual)):
        missing = sorted(expected[table] - actual[table])
        extra = sorted(actual[table] - expected[table])
        if missing:
            problems.append(f"table {table} lacks columns {', '.join(missing)}")
        if extra:
            problems.append(f"table {table} has columns the models no longer define: {', '.join(extra)}")
    return problems


def stored_instrument_versions(url: str) -> set[str]:
    """The instrument versions the stored answers were given to (`instrument_version`
    of collab_experiment's players, blanks left out).

    Args:
        url: the database's SQLAlchemy URL (`database_url()`).

    Returns an empty set also when the table does not exist yet or the database cannot
    be read: the note these feed is informational only.
    """
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as con:
            rows = con.execute(sqlalchemy.text(
                "SELECT DISTINCT instrument_version FROM collab_experiment_player "
                "WHERE instrument_version IS NOT NULL AND instrument_version <> ''"
            ))
            return {r[0] for r in rows}
    except sqlalchemy.exc.DBAPIError:
        return set()
    finally:
        engine.dispose()


def preflight() -> int:
    """Check, before a class, that the database at `database_url()` fits this code's
    models, and say what to do if not.

    Prints the verdict (OK on stdout; problems and the remedy on stderr), and notes
    answers stored under another instrument version than this code's. Returns the exit
    code: 0 fits (an empty database included), 1 columns differ (do not start the
    server), 2 the database cannot be reached.
    """
    from collab_experiment import texts

    url = database_url()
    try:
        actual = actual_schema(url)
    except sqlalchemy.exc.DBAPIError as exc:
        print(f"preflight: cannot reach the database ({_safe(url)}): {exc.orig}", file=sys.stderr)
        return 2
    problems = schema_differences(expected_schema(), actual)
    current = texts.load(texts.MASTER)["meta"]["instrument_version"]
    if problems:
        print("preflight: this database was made by other models than this code:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        print(
            "Do not start the server on it. Either run the code version that made it, or:\n"
            "  1. download the data (admin → Data, or `python -m analysis fetch`),\n"
            "  2. python -m collab_experiment.manage reset   (backs up first, then deletes all data).",
            file=sys.stderr,
        )
        return 1
    older = stored_instrument_versions(url) - {current}
    if older:
        print(f"preflight: note: the database also holds answers to instrument version(s) "
              f"{', '.join(sorted(older))}; this code is {current}.")
    state = "empty database" if not actual else f"{len(actual)} tables match the models"
    print(f"preflight: OK ({state}; instrument {current}; {_safe(url)})")
    return 0


def backup(directory: pathlib.Path = BACKUP_DIR) -> pathlib.Path:
    """A consistent copy of the database, named by the time in UTC.

    Args:
        directory: the folder the copy is written to (relative to the current folder
            unless absolute); created if missing.

    Returns the path of the copy: `db-<YYYYMMDDTHHMMSSZ>.sqlite3` for SQLite (SQLite's
    online backup, consistent while the server writes), `db-<…>.dump` for PostgreSQL
    (`pg_dump --format=custom`, restore with `pg_restore`). Ends the program
    (`SystemExit` with the reason) when the SQLite file does not exist or `pg_dump` is
    not installed; raises `subprocess.CalledProcessError` when `pg_dump` fails.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    url = database_url()
    if url.startswith("sqlite"):
        source = pathlib.Path(url.split("///", 1)[1])
        target = directory / f"db-{stamp}.sqlite3"
        if not source.exists():
            raise SystemExit(f"backup: no database file {source}")
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # consistent even while the server writes
        return target
    if not shutil.which("pg_dump"):
        raise SystemExit("backup: pg_dump is not installed (apt-get install postgresql-client)")
    target = directory / f"db-{stamp}.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={target}", url.replace("postgres://", "postgresql://", 1)],
                   check=True)
    return target


# Kept on a withdrawn player: the row's identity and the withdrawal itself.
KEEP_ON_WITHDRAWAL = {
    "id", "participant_id", "session_id", "group_id", "subsession_id", "round_number",
    "id_in_group", "withdrawn", "withdrawal_code", "_role", "payoff",
}


def withdraw(codes: list[str]) -> dict[str, str]:
    """Mark each code's participant as withdrawn and blank every answer they gave.

    Works on the database directly (the server may keep running). Returns, per code as
    given, 'withdrawn' or 'not found'. Repeating a withdrawal is harmless.

    Args:
        codes: the students' withdrawal codes as they sent them; case, spaces and dashes
            do not matter (`withdrawal.normalise`). Every answer column of the player is
            set to NULL except `KEEP_ON_WITHDRAWAL`, and the consent row's
            `age_confirmed`, `consent_version` and `language`, all in one transaction.
    """
    from collab_experiment import withdrawal

    url = database_url()
    engine = sqlalchemy.create_engine(url)
    outcome = {}
    try:
        inspector = sqlalchemy.inspect(engine)
        player_cols = [c["name"] for c in inspector.get_columns("collab_experiment_player")]
        consent_cols = [c["name"] for c in inspector.get_columns("consent_player")]
        blank_player = [c for c in player_cols if c not in KEEP_ON_WITHDRAWAL]
        blank_consent = [c for c in ("age_confirmed", "consent_version", "language") if c in consent_cols]
        with engine.begin() as con:
            stored = {
                withdrawal.normalise(code): (pid, participant_id)
                for pid, participant_id, code in con.execute(sqlalchemy.text(
                    "SELECT id, participant_id, withdrawal_code FROM collab_experiment_player "
                    "WHERE withdrawal_code IS NOT NULL AND withdrawal_code <> ''"))
            }
            for code in codes:
                found = stored.get(withdrawal.normalise(code))
                if found is None:
                    outcome[code] = "not found"
                    continue
                pid, participant_id = found
                sets = ", ".join([f'"{c}" = NULL' for c in blank_player] + ['"withdrawn" = :yes'])
                con.execute(sqlalchemy.text(f"UPDATE collab_experiment_player SET {sets} WHERE id = :id"),
                            dict(id=pid, yes=True))
                if blank_consent:
                    sets = ", ".join(f'"{c}" = NULL' for c in blank_consent)
                    con.execute(sqlalchemy.text(f"UPDATE consent_player SET {sets} WHERE participant_id = :p"),
                                dict(p=participant_id))
                outcome[code] = "withdrawn"
    finally:
        engine.dispose()
    return outcome


def reset() -> int:
    """Back up the database into `BACKUP_DIR`, then delete and recreate it with
    `otree resetdb --noinput` (every session and answer is gone).

    Returns `otree resetdb`'s exit code. When the backup fails (`SystemExit` or
    `subprocess.CalledProcessError`, see `backup`) nothing is deleted.
    """
    path = backup()
    print(f"backup written: {path}")
    return subprocess.call(["otree", "resetdb", "--noinput"])


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return repr(sqlalchemy.engine.url.make_url(url))  # SQLAlchemy masks the password
    except Exception:
        return "the database"


def main(argv=None) -> int:
    """The command line: `preflight`, `backup [--dir DIR]`, `reset`, `withdraw CODE …`.

    Args:
        argv: the arguments without the program's name; default `sys.argv[1:]`.

    Returns the exit code: `preflight`'s and `reset`'s own; 0 for `backup`; for
    `withdraw` 0 when every code was found, else 1 (each code's outcome is printed).
    """
    parser = argparse.ArgumentParser(prog="python -m collab_experiment.manage", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("preflight", help="check that the database fits these models")
    b = sub.add_parser("backup", help="back up the database")
    b.add_argument("--dir", type=pathlib.Path, default=BACKUP_DIR)
    sub.add_parser("reset", help="back up, then delete and recreate the database")
    w = sub.add_parser("withdraw", help="withdraw participants by their debrief codes (blanks their answers)")
    w.add_argument("codes", nargs="+", metavar="CODE")
    args = parser.parse_args(argv)
    if args.command == "preflight":
        return preflight()
    if args.command == "backup":
        print(f"backup written: {backup(args.dir)}")
        return 0
    if args.command == "withdraw":
        outcome = withdraw(args.codes)
        for code, result in outcome.items():
            print(f"{code}: {result}")
        return 0 if all(r == "withdrawn" for r in outcome.values()) else 1
    return reset()


if __name__ == "__main__":
    sys.exit(main())
