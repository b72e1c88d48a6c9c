"""Command line: ``python -m analysis {tidy,report,fetch,simulate,design,preregister,demo} ...``.

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
    from .privacy import privacy_notes
    tidy, privacy = privacy_notes(tidy, a.coarsen)
    notes += privacy
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
    run_report(a.inputs, a.out, plan, a.withdrawals, progress=None if a.quiet else _say,
               include_bots=a.include_bots, registered=a.registered, coarsen=a.coarsen)


def _cmd_demo(a) -> None:
    from .demo import run_demo
    run_demo(a.out, n=a.n, effect_manager=a.effect_manager, effect_partner=a.effect_partner,
             effect_interaction=a.effect_interaction, decline=a.decline, seed=a.seed,
             draws=a.draws, progress=_say, keep_project=a.keep_project)


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


def _design_overrides(a) -> dict:
    from .design import parse_n
    return dict(n=parse_n(a.n) if a.n else None, n_per_programme=a.n_per_programme,
                effect_sd_all=a.effect_sd, attrition=a.attrition, check_failure=a.check_failure,
                outcome_sd=a.outcome_sd, classes=a.classes, sims=a.sims, seed=a.seed)


def _cmd_design(a) -> None:
    from .design import design_from_plan, diagnose, write_diagnosis
    from .plan import load_plan
    plan = load_plan(a.plan)
    design = design_from_plan(plan, **_design_overrides(a))
    say = (lambda m: None) if a.quiet else _say
    say(f"diagnosing: {sum(design.n[p] for p in design.programmes)} students, {design.sims} simulations")
    diag, raw = diagnose(design, progress=say)
    paths = write_diagnosis(diag, raw, design, a.out, plan)
    _say(f"wrote {paths['csv']}, {paths['html']} ({raw['timings']['total_s']:.1f} s)")


def _cmd_preregister(a) -> None:
    from .design import design_from_plan, design_summary_text, diagnose, write_diagnosis
    from .plan import load_plan
    from .prereg import write_preregistration
    import pandas as pd
    plan = load_plan(a.plan)
    design = design_from_plan(plan, **_design_overrides(a))
    if a.diagnosis:
        try:
            diag = pd.read_csv(a.diagnosis)
        except FileNotFoundError:
            raise AnalysisInputError(a.diagnosis, "diagnosis file not found") from None
        text = [f"Diagnosis read from {a.diagnosis}."]
    else:
        say = (lambda m: None) if a.quiet else _say
        say(f"diagnosing the design ({design.sims} simulations) for the sample-size justification")
        diag, raw = diagnose(design, progress=say)
        write_diagnosis(diag, raw, design, a.out, plan)
        text = design_summary_text(design)
    paths = write_preregistration(plan, a.out, diag, text)
    _say(f"wrote {paths['md']}, {paths['html']} (plan SHA-256 {plan.sha256})")


def _add_design_options(d: argparse.ArgumentParser) -> None:
    d.add_argument("--plan", help="analysis plan TOML; its [design] section gives the defaults")
    d.add_argument("--n", help="students per programme, e.g. nursing=120,teacher=120,management=60,public_admin=60")
    d.add_argument("--n-per-programme", type=int, help="the same number of students in every programme")
    d.add_argument("--effect-sd", type=float, help="assumed effect of both factors in outcome SDs "
                   "(per factor and programme: the plan's [design.effect_sd])")
    d.add_argument("--attrition", type=float, help="share of assigned students without the outcome")
    d.add_argument("--check-failure", type=float, help="share who miss the manipulation (no effect)")
    d.add_argument("--outcome-sd", type=float, help="SD of the outcome in scale points")
    d.add_argument("--classes", type=int, help="sessions the students come in")
    d.add_argument("--sims", type=int, help="number of simulated studies")
    d.add_argument("--seed", type=int, help="seed of the simulation")
    d.add_argument("--quiet", action="store_true", help="no progress messages")


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m analysis``: one sub-command per task."""
    p = argparse.ArgumentParser(prog="python -m analysis",
                                description="From oTree exports to tidy data, effects and a report.")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("tidy", help="exports -> tidy.csv, codebook (CSV, Markdown), Stata .dta")
    t.add_argument("exports", nargs="+", help="oTree all-apps-wide or custom export CSVs")
    t.add_argument("--out", required=True, help="tidy CSV to write (codebook and .dta beside it)")
    t.add_argument("--withdrawals", help="file of withdrawal codes, one per line")
    t.add_argument("--coarsen", action="store_true", help="coarsen age band and gender until every "
                   "programme x site x age band x gender combination has at least 5 people")
    t.set_defaults(func=_cmd_tidy)
    r = sub.add_parser("report", help="exports or tidy CSV -> tables and report.html")
    r.add_argument("inputs", nargs="+", help="oTree exports or a tidy CSV")
    r.add_argument("--out", required=True, help="output directory")
    r.add_argument("--plan", help="analysis plan TOML (default: the shipped plan)")
    r.add_argument("--withdrawals", help="file of withdrawal codes, one per line")
    r.add_argument("--draws", type=int, help="override the plan's randomisation-inference draws")
    r.add_argument("--quiet", action="store_true", help="no progress messages")
    r.add_argument("--registered", help="the registered plan (preregistration .md or plan .toml): "
                   "the report lists every deviation from it")
    r.add_argument("--coarsen", action="store_true", help="coarsen age band and gender until every "
                   "programme x site x age band x gender combination has at least 5 people")
    r.add_argument("--include-bots", action="store_true", help="keep oTree bot rows (dry runs only)")
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
    d = sub.add_parser("design", help="design diagnosis: power, bias, coverage, MDE by simulation")
    _add_design_options(d)
    d.add_argument("--out", default="design", help="output directory (diagnosis.csv, diagnosis.html)")
    d.set_defaults(func=_cmd_design)
    g = sub.add_parser("preregister", help="the plan and its diagnosis as Markdown and HTML (OSF, AsPredicted)")
    _add_design_options(g)
    g.add_argument("--diagnosis", help="a diagnosis.csv written by `design` (default: diagnose now)")
    g.add_argument("--out", default="prereg", help="output directory (prereg.md, prereg.html)")
    g.set_defaults(func=_cmd_preregister)
    m = sub.add_parser("demo", help="dry run: a simulated class through the real apps, then the report")
    m.add_argument("--out", default="demo-report", help="output directory (default demo-report)")
    m.add_argument("--n", type=int, default=200, help="simulated students (default 200)")
    m.add_argument("--effect-manager", type=float, default=0.5,
                   help="injected trust - control effect on attractiveness, trust_manager, autonomy (scale points)")
    m.add_argument("--effect-partner", type=float, default=-0.4,
                   help="injected other - same effect on collaboration (scale points)")
    m.add_argument("--effect-interaction", type=float, default=0.0, help="injected manager:partner "
                   "effect on collaboration (scale points)")
    m.add_argument("--decline", type=float, default=0.03, help="share of bots who decline consent")
    m.add_argument("--seed", type=int, default=1, help="seed of the bots' answers and the assignment")
    m.add_argument("--draws", type=int, default=2000, help="randomisation-inference draws")
    m.add_argument("--keep-project", action="store_true", help="keep the temporary project copy")
    m.set_defaults(func=_cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m analysis``; returns the exit code (1 with a plain message on bad input, no traceback).

    Parameters
    ----------
    argv : list of str, optional
        The arguments; default ``sys.argv[1:]``.
    """
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
