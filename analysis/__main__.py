"""Command line: ``python -m analysis {tidy,report,fetch,simulate} ...``.

Bad input ends with one line on stderr naming the file and the problem and exit
code 2; ``--debug`` shows the traceback of unexpected errors.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import AnalysisInputError


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _cmd_tidy(a) -> None:
    from . import codebook as cbk
    from .load import tidy_from_exports, write_tidy
    notes: list[str] = []
    tidy = tidy_from_exports(a.exports, a.withdrawals, notes)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_tidy(tidy, out)
    instrument = cbk.load_instrument()
    cb = cbk.build_codebook(tidy, instrument)
    written = [out, *cbk.write_codebook(cb, out.parent, f"{out.stem}_codebook"),
               cbk.write_stata(tidy, out.with_suffix(".dta"), instrument)]
    for n in notes:
        _say(n)
    _say("wrote " + ", ".join(str(p) for p in written))


def _cmd_report(a) -> None:
    from .plan import load_plan
    from .report import run_report
    plan = load_plan(a.plan)
    if a.draws is not None:
        from dataclasses import replace
        plan = replace(plan, ri_draws=a.draws)
    run_report(a.inputs, a.out, plan, a.withdrawals, progress=None if a.quiet else _say)


def _cmd_fetch(a) -> None:
    from .fetch import fetch_session
    out = a.out or f"{a.session}_{'custom' if a.custom else 'all_apps_wide'}.csv"
    path = fetch_session(a.server, a.session, out, custom=a.custom)
    _say(f"wrote {path}")


def _cmd_simulate(a) -> None:
    from .simulate import simulate_study, to_wide
    df = simulate_study(a.n, seed=a.seed)
    (to_wide(df) if a.format == "wide" else df).to_csv(a.out, index=False)
    _say(f"wrote {a.out} ({a.format} export, {len(df)} rows)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analysis",
                                description="From oTree exports to tidy data, effects and a report.")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("tidy", help="exports -> tidy.csv, codebook (CSV, Markdown), Stata .dta")
    t.add_argument("exports", nargs="+", help="oTree all-apps-wide or custom export CSVs")
    t.add_argument("--out", required=True, help="tidy CSV to write (codebook and .dta beside it)")
    t.add_argument("--withdrawals", help="file of withdrawal codes, one per line")
    t.set_defaults(func=_cmd_tidy)
    r = sub.add_parser("report", help="exports or tidy CSV -> tables and report.html")
    r.add_argument("inputs", nargs="+", help="oTree exports or a tidy CSV")
    r.add_argument("--out", required=True, help="output directory")
    r.add_argument("--plan", help="analysis plan TOML (default: the shipped plan)")
    r.add_argument("--withdrawals", help="file of withdrawal codes, one per line")
    r.add_argument("--draws", type=int, help="override the plan's randomisation-inference draws")
    r.add_argument("--quiet", action="store_true", help="no progress messages")
    r.set_defaults(func=_cmd_report)
    f = sub.add_parser("fetch", help="download a session's export via oTree's REST API")
    f.add_argument("--server", required=True, help="base URL of the oTree server")
    f.add_argument("--session", required=True, help="session code")
    f.add_argument("--out", help="CSV to write (default: CODE_all_apps_wide.csv)")
    f.add_argument("--custom", action="store_true", help="fetch the custom export instead")
    f.set_defaults(func=_cmd_fetch)
    s = sub.add_parser("simulate", help="write a simulated export with known effects")
    s.add_argument("--n", type=int, default=1000)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--format", choices=["custom", "wide"], default="custom")
    s.add_argument("--out", required=True)
    s.set_defaults(func=_cmd_simulate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except AnalysisInputError as exc:
        _say(f"analysis: error: {exc}")
        return 2
    except OSError as exc:
        _say(f"analysis: error: {getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
        return 2
    except KeyboardInterrupt:
        _say("analysis: interrupted")
        return 130
    except Exception as exc:  # never a traceback for the user; --debug shows it
        if args.debug:
            raise
        _say(f"analysis: internal error: {type(exc).__name__}: {exc} (rerun with --debug)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
