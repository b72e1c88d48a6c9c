"""End to end through the command line: python -m analysis tidy/report/fetch."""
from __future__ import annotations

import http.server
import pathlib
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest

from analysis.simulate import Truth, simulate_study
from analysis_fixtures import write_exports

REPO = pathlib.Path(__file__).resolve().parents[1]
BIG = Truth(manager={"attractiveness": 1.5, "trust_manager": 1.5, "autonomy": 1.5},
            partner={"collaboration": -1.2}, interaction={})


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "analysis", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("fmt", ["custom", "wide"])
def test_report_recovers_a_large_injected_effect_from_either_export(tmp_path, fmt):
    _, custom, wide = write_exports(tmp_path, n=1000, seed=21, truth=BIG)
    out = tmp_path / "out"
    res = run("report", custom if fmt == "custom" else wide, "--out", out, "--draws", "500")
    assert res.returncode == 0, res.stderr
    assert "[8/8]" in res.stderr  # progress is shown
    for name in ("effects.csv", "flow.csv", "balance.csv", "reliability.csv", "tidy.csv",
                 "codebook.csv", "codebook.md", "tidy.dta", "report.html"):
        assert (out / name).stat().st_size > 0, name
    eff = pd.read_csv(out / "effects.csv")
    pooled = eff[(eff.estimator == "block_weighted") & (eff.programme == "pooled")].set_index(["outcome", "factor"])
    for outcome in ("attractiveness", "trust_manager", "autonomy"):
        r = pooled.loc[(outcome, "manager")]
        assert r.adjustment == ("check" if outcome == "autonomy" else "holm") and r.p_value < 1e-6
        assert 1.0 < r.estimate < 1.7  # 1.5 injected, attenuated a little by rounding and clipping
    checks = pd.read_csv(out / "checks.csv")
    auto = checks[(checks.check == "autonomy: manager effect") & (checks.programme == "pooled")].iloc[0]
    assert auto.estimate == pytest.approx(pooled.loc[("autonomy", "manager")].estimate)
    rates = checks[checks.check == "mc_manager_correct: pass rate"]
    assert set(rates.arm) == {"trust", "control"} and rates.estimate.between(0, 1).all()
    assert pooled.loc[("collaboration", "partner")].estimate < -0.8
    assert pooled.loc[("attractiveness", "partner")].adjustment == "bh"
    ri = pd.read_csv(out / "randomisation_inference.csv")
    assert (ri.p_value_ri <= 2 / 501).all()
    assert (ri.scheme == "conditional").all() and ri.null.str.contains("re-randomised within block x").all()
    both = ri.merge(eff, on=["outcome", "factor", "programme", "estimator"])
    assert len(both) == 3 and np.allclose(both.statistic, both.estimate, rtol=1e-10)
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "src=\"http" not in html and "<link" not in html
    assert "default_plan.toml" in html and "SHA-256" in html
    # the report opens with the confirmatory results; the second balance table names covariates
    assert html.index("<h2>Confirmatory hypotheses</h2>") < html.index("<h2>Deviations")
    worst = html.split("The largest absolute standardised difference")[1].split("</table>")[0]
    assert "<th>covariate</th>" in worst and "<th>level</th>" in worst
    assert "0.4 outcome SDs" in html and "converted to scale points" in html
    assert "withdrawal_code" not in html and "withdrawal_code" not in (out / "tidy.csv").read_text()[:2000]


def test_tidy_command_writes_table_codebook_and_stata(tmp_path):
    _, custom, wide = write_exports(tmp_path, n=200)
    res = run("tidy", custom, wide, "--out", tmp_path / "t" / "tidy.csv")
    assert res.returncode == 0, res.stderr
    for name in ("tidy.csv", "tidy_codebook.csv", "tidy_codebook.md", "tidy.dta"):
        assert (tmp_path / "t" / name).exists()
    assert len(pd.read_csv(tmp_path / "t" / "tidy.csv")) == 200  # same study twice: merged


def test_report_on_a_programme_with_one_person_in_an_arm_flags_the_rows(tmp_path):
    df = simulate_study(600, seed=31, n_demo=0)
    mgmt = df.index[df.programme == "management"]
    df = df.drop(mgmt[1:]).copy()  # a single management participant
    p = tmp_path / "one.csv"
    df.to_csv(p, index=False)
    res = run("report", p, "--out", tmp_path / "o", "--draws", "200", "--quiet")
    assert res.returncode == 0, res.stderr
    eff = pd.read_csv(tmp_path / "o" / "effects.csv")
    m = eff[(eff.programme == "management") & (eff.estimator == "difference_in_means")]
    assert len(m) and m.estimate.isna().all() and m.note.str.contains("not estimable").all()
    pooled = eff[(eff.programme == "pooled") & (eff.estimator == "block_weighted")]
    assert pooled.note.str.contains("management").all() and pooled.estimate.notna().all()


def _one_line_error(res, *words):
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    # progress lines ("[1/8] ...") may come first; the error itself is one line
    lines = [x for x in res.stderr.strip().splitlines() if not x.startswith(("[", " "))]
    assert len(lines) == 1 and lines[0].startswith("analysis: error: "), res.stderr
    for w in words:
        assert w in lines[0]


def test_bad_inputs_end_with_one_line_naming_file_and_problem(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _one_line_error(run("report", empty, "--out", tmp_path / "o"), "empty.csv", "empty")
    other = tmp_path / "grades.csv"
    other.write_text("student,grade\nA,5\n")
    _one_line_error(run("tidy", other, "--out", tmp_path / "t.csv"), "grades.csv", "not an oTree export")
    df = simulate_study(30, seed=2).drop(columns=["trust_2"])
    miss = tmp_path / "missing.csv"
    df.to_csv(miss, index=False)
    _one_line_error(run("report", miss, "--out", tmp_path / "o"), "missing.csv", "trust_2")
    _one_line_error(run("tidy", tmp_path / "nope.csv", "--out", tmp_path / "t.csv"), "nope.csv", "not found")
    binary = tmp_path / "export.xlsx"
    binary.write_bytes(b"PK\x03\x04\x00\xff\xfe" * 20)
    _one_line_error(run("tidy", binary, "--out", tmp_path / "t.csv"), "export.xlsx")
    plan = tmp_path / "plan.toml"
    plan.write_text("alpha = [")
    _one_line_error(run("report", miss, "--out", tmp_path / "o", "--plan", plan), "plan.toml", "TOML")


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802 (http.server API)
        if self.headers.get("otree-rest-key") != "sekret":
            self.send_response(403)
            self.end_headers()
            self.wfile.write(b"HTTP Request Header otree-rest-key is incorrect")
            return
        ok = self.path.startswith("/api/export_wide?session_code=abc123")
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        self.wfile.write(self.body if ok else b"not found")

    def log_message(self, *a):
        pass


def test_fetch_downloads_the_session_export_with_the_rest_key(tmp_path):
    from analysis.simulate import to_wide
    _Handler.body = to_wide(simulate_study(40, seed=3)).to_csv(index=False).encode()
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        env = {**__import__("os").environ, "OTREE_REST_KEY": "sekret"}
        out = tmp_path / "s.csv"
        res = run("fetch", "--server", url, "--session", "abc123", "--out", out, env=env)
        assert res.returncode == 0, res.stderr
        assert out.read_bytes() == _Handler.body
        env["OTREE_REST_KEY"] = "wrong"
        _one_line_error(run("fetch", "--server", url, "--session", "abc123", "--out", out, env=env),
                        "HTTP 403", "OTREE_REST_KEY")
    finally:
        server.shutdown()


def test_report_where_nobody_consented_marks_every_effect_not_estimable(tmp_path):
    p = tmp_path / "declined.csv"
    simulate_study(40, seed=1, n_demo=0, p_consent=0.0).to_csv(p, index=False)
    res = run("report", p, "--out", tmp_path / "o", "--quiet")
    assert res.returncode == 0 and res.stderr == "", res.stderr  # no warnings either
    eff = pd.read_csv(tmp_path / "o" / "effects.csv")
    assert eff.estimate.isna().all() and eff.note.str.contains("not estimable").all()
    flow = pd.read_csv(tmp_path / "o" / "flow.csv")
    assert (flow.iloc[0].opened, flow.iloc[0].consented) == (40, 0)


def test_the_report_names_files_without_this_machines_folders(tmp_path):
    """A shared report must not show where the researcher keeps the data: inputs, the
    plan and the data notes are named relative to the working folder or by name alone,
    each with its SHA-256; the footer names the command that made the report."""
    from analysis.report import sha256_file

    _, custom, _ = write_exports(tmp_path, n=200, seed=3, truth=BIG)
    plan = tmp_path / "my plan.toml"
    plan.write_text((REPO / "analysis" / "default_plan.toml").read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    res = run("report", custom, "--out", out, "--draws", "50", "--plan", plan, "--registered", plan, "--quiet")
    assert res.returncode == 0, res.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert str(tmp_path) not in html and str(REPO) not in html and str(pathlib.Path.home()) + "/" not in html
    assert f"{custom.name}: {sha256_file(custom)}" in html
    assert f"{custom.name}: custom export" in html  # the data note
    assert "my plan.toml" in html and "<code>python -m analysis report</code>" in html


def test_shown_paths_are_relative_inside_the_working_folder_and_names_outside(tmp_path):
    from analysis.load import shown_path

    inside = tmp_path / "data" / "export.csv"
    assert shown_path(inside, cwd=tmp_path) == "data/export.csv"
    assert shown_path(inside, cwd=tmp_path / "elsewhere") == "export.csv"
    assert shown_path("export.csv", cwd=tmp_path) == "export.csv"


def test_the_default_outputs_of_the_commands_are_ignored_by_git(tmp_path):
    """design/, prereg/, demo-report/ and the fetched export (the class's real answers)
    land in the working folder by default: git must not pick them up."""
    import shutil

    from analysis.__main__ import build_parser

    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    parser = build_parser()
    written = [pathlib.Path(parser.parse_args([cmd]).out) / "report.html" for cmd in ("design", "preregister", "demo")]
    written += ["ABCD1234_all_apps_wide.csv", "ABCD1234_custom.csv"]  # what fetch names its file
    res = subprocess.run(["git", "check-ignore", "--no-index", *map(str, written)], cwd=REPO,
                         capture_output=True, text=True)
    assert sorted(res.stdout.split()) == sorted(map(str, written)), res.stdout + res.stderr
