"""Pre-registration: the document carries the plan verbatim with its hash, and the report
lists every deviation from it (plan entries changed, rows not estimable)."""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pandas as pd
import pytest

from analysis.errors import AnalysisInputError
from analysis.plan import DEFAULT_PLAN, load_plan
from analysis.prereg import markdown_to_html, plan_deviations, registered_plan_text, render_markdown
from analysis.simulate import simulate_study

REPO = pathlib.Path(__file__).resolve().parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", "analysis", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def prereg(tmp_path_factory):
    out = tmp_path_factory.mktemp("prereg")
    res = run("preregister", "--n-per-programme", "60", "--sims", "200", "--out", out)
    assert res.returncode == 0, res.stderr
    return out


def test_preregistration_has_every_section_and_the_plan_hash(prereg):
    md = (prereg / "prereg.md").read_text()
    plan = load_plan()
    for heading in ("Hypotheses", "Design", "Outcomes and estimands", "Estimators",
                    "Inference, families and corrections", "Smallest effect size of interest",
                    "Exclusions and missing data", "Sample size justification", "Deviations"):
        assert re.search(rf"^## \d+\. {re.escape(heading)}$", md, re.M), heading
    assert plan.sha256 in md
    assert "**H1**" in md and "**H2**" in md and "**H3**" in md
    assert "Holm" in md and "Benjamini–Hochberg" in md and f"{plan.sesoi_sd:g} outcome SDs" in md
    # H3 is exploratory: listed as a hypothesis, never under the confirmatory tests
    confirmatory = md.split("Confirmatory tests")[1].split("\n\n", 2)[1]
    assert "H1" in confirmatory and "H2" in confirmatory and "H3" not in confirmatory
    assert "**H3** (exploratory)" in md and "`autonomy` (a check of the manager factor)" in md
    assert "within session × programme × block × the other factor's arm" in md  # conditional RI
    for name in ("block_weighted", "difference_in_means", "factorial", "lin", "fixed_effects"):
        assert f"- `{name}` (" in md  # the estimators come from the registry
    assert "DESIGN" + ".md" not in md and "INSTRUMENT" + ".md" not in md
    # the sample-size justification is the diagnosis of this design (60 per programme, 240 pooled)
    diag = pd.read_csv(prereg / "diagnosis.csv")
    pooled = diag[(diag.programme == "pooled") & (diag.factor == "manager")].iloc[0]
    assert pooled.n == 240 and f"{pooled.mde_80:.3f}" in md
    html = (prereg / "prereg.html").read_text()
    assert "<h2>1. Hypotheses</h2>" in html and "<table" in html and "<pre><code>" in html
    assert "http" not in html.split("<body>")[1].replace("https://", "")  # nothing loaded from elsewhere


def test_embedded_plan_is_the_plan_file_verbatim(prereg):
    text, sha = registered_plan_text(prereg / "prereg.md")
    assert text == DEFAULT_PLAN.read_text(encoding="utf-8")
    assert sha == load_plan().sha256
    assert plan_deviations(load_plan(), prereg / "prereg.md") == []


def test_a_plan_edited_after_registration_is_refused(prereg, tmp_path):
    md = (prereg / "prereg.md").read_text().replace("sesoi_sd = 0.4", "sesoi_sd = 0.2")
    p = tmp_path / "tampered.md"
    p.write_text(md)
    with pytest.raises(AnalysisInputError, match="does not match its registered SHA-256"):
        registered_plan_text(p)


def test_plan_deviations_name_each_changed_entry(prereg, tmp_path):
    text = DEFAULT_PLAN.read_text()
    changed = (text.replace("sesoi_sd = 0.4", "sesoi_sd = 0.25")
               .replace('categorical = ["municipal_experience", "age_band", "gender"]',
                        'categorical = ["municipal_experience"]'))
    own = tmp_path / "used.toml"
    own.write_text(changed)
    rows = {r["item"]: r for r in plan_deviations(load_plan(own), prereg / "prereg.md")}
    assert set(rows) == {"equivalence.sesoi_sd", "covariates.categorical"}
    assert rows["equivalence.sesoi_sd"]["registered"] == "0.4" and rows["equivalence.sesoi_sd"]["used"] == "0.25"
    from dataclasses import replace
    rows = plan_deviations(replace(load_plan(), ri_draws=100), prereg / "prereg.md")
    assert [r["item"] for r in rows] == ["randomisation_inference.draws"] and "--draws" in rows[0]["detail"]
    # comments only: same entries, a different file
    comment = tmp_path / "comment.toml"
    comment.write_text(text + "\n# a note\n")
    rows = plan_deviations(load_plan(comment), prereg / "prereg.md")
    assert len(rows) == 1 and "comments or layout" in rows[0]["detail"]


def test_report_lists_plan_and_data_driven_deviations(prereg, tmp_path):
    df = simulate_study(500, seed=41, n_demo=0)
    mgmt = df.index[df.programme == "management"]
    df = df.drop(mgmt[1:])  # one management student: not estimable there
    data = tmp_path / "export.csv"
    df.to_csv(data, index=False)
    own = tmp_path / "used.toml"
    own.write_text(DEFAULT_PLAN.read_text().replace("sesoi_sd = 0.4", "sesoi_sd = 0.3"))
    out = tmp_path / "out"
    res = run("report", data, "--out", out, "--plan", own, "--registered", prereg / "prereg.md",
              "--draws", "100", "--quiet")
    assert res.returncode == 0, res.stderr
    dev = pd.read_csv(out / "deviations.csv")
    plan_rows = dev[dev.kind == "plan"]
    assert set(plan_rows.item) == {"equivalence.sesoi_sd", "randomisation_inference.draws"}
    ne = dev[dev.kind == "not estimable"]
    assert ne.item.str.contains("/ management / difference_in_means").any()
    assert (dev.detail.str.contains("left out").any())  # the pooled estimate left management out
    html = (out / "report.html").read_text()
    assert "Deviations from the registered plan" in html and "2 difference(s) from the registered plan" in html
    # the same data under the registered plan itself: no plan differences
    res = run("report", data, "--out", tmp_path / "same", "--registered", prereg / "prereg.md", "--quiet")
    assert res.returncode == 0, res.stderr
    assert (pd.read_csv(tmp_path / "same" / "deviations.csv").kind != "plan").all()
    assert "no differences" in (tmp_path / "same" / "report.html").read_text()


def test_markdown_renderer_handles_lists_tables_and_code():
    md = render_markdown(load_plan(), None)
    html = markdown_to_html(md)
    assert "No design diagnosis was attached." in html and html.count("<pre><code>") == 1
    assert "<li><b>H1</b>:" in html and "&lt;!--" not in html


def test_preregistration_and_diagnosis_pages_fit_a_laptop_screen(prereg):
    """Headless Chromium at 1280 px: no horizontal scrolling of the page."""
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = pathlib.Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian chromium not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        for name in ("prereg.html", "diagnosis.html"):
            page.goto((prereg / name).as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280, name
            widest = page.evaluate("Math.max(...Array.from(document.querySelectorAll('table'))"
                                   ".map(t => t.getBoundingClientRect().right))")
            assert widest <= 1280, (name, widest)
        browser.close()


def test_html_tables_align_text_left_and_numbers_right():
    from analysis.htmlparts import table
    html = table(pd.DataFrame({"covariate": ["age_band"], "std_diff": [0.1234], "n": [12]}))
    assert "<td>age_band</td>" in html and '<td class="n">0.123</td>' in html and '<td class="n">12</td>' in html
    assert "std_<wbr>diff" in html  # long headers may wrap
