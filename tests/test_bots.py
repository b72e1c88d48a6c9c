"""oTree's bots walk the real apps; the exported data then keep the contract and the balance."""

import collections
import csv
import os
import pathlib
import subprocess
import sys

import pytest

from analysis import contract
from collab_experiment import assignment, texts
from conftest import copy_project

LANGUAGES = set(texts.LANGUAGES)


def run_bots(tmp_path, config, n):
    project = copy_project(tmp_path / "project", with_bots=True)
    out = tmp_path / "export"
    env = {**os.environ, "PATH": str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    result = subprocess.run(
        ["otree", "test", config, str(n), "--export", str(out)],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with (out / "collab_experiment_custom.csv").open(newline="", encoding="utf8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def classroom_rows(tmp_path_factory):
    return run_bots(tmp_path_factory.mktemp("bots"), "classroom", 120)


def test_custom_export_has_the_contract_columns_in_order(classroom_rows):
    assert list(classroom_rows[0])[: len(contract.TIDY_COLUMNS)] == list(contract.TIDY_COLUMNS)


def test_bots_cover_every_programme_cell_and_language(classroom_rows):
    seen = {(r["programme"], r["manager"], r["partner"], r["language"]) for r in classroom_rows if r["assigned"] == "1"}
    wanted = {(p, m, q, lang) for p in assignment.PROGRAMMES for (m, q) in assignment.CELLS for lang in LANGUAGES}
    assert wanted <= seen


def test_declined_participants_have_nothing_but_consent_stored(classroom_rows):
    declined = [r for r in classroom_rows if r["consented"] == "0"]
    assert len(declined) == 10
    flow = {"participant_code", "session_code", "consented", "assigned", "completed", "withdrawn",
            "last_page", "timed_out_pages", "is_demo", "is_bot"}
    for row in declined:
        assert {k for k, v in row.items() if v} <= flow
        assert row["last_page"] == "Finished" and row["assigned"] == "0"


def test_every_stratum_is_balanced_within_one(classroom_rows):
    counts = collections.defaultdict(collections.Counter)
    for r in classroom_rows:
        if r["assigned"] == "1":
            counts[r["stratum"]][(r["manager"], r["partner"])] += 1
    assert set(counts) == set(assignment.PROGRAMMES)
    for stratum, per_cell in counts.items():
        assert assignment.max_imbalance(per_cell) <= 1, stratum


def test_completed_rows_have_every_answer_and_scores(classroom_rows):
    done = [r for r in classroom_rows if r["completed"] == "1"]
    assert len(done) == 110
    for r in done:
        for column in [*contract.OUTCOMES, "autonomy", "psm", "attention_pass", "mc_manager_correct", "withdrawal_code",
                       "programme_level", "realism", "taught_tbm", "scale_order"]:
            assert r[column] != "", column
        # the bots that chose the appraisal interview (described by neither text) failed the check
        assert r["mc_manager_correct"] == ("0" if r["mc_manager"] == "appraisal" else "1")
        assert r["mc_partner_correct"] == "0"
        assert float(r["attractiveness"]) == pytest.approx(sum(int(r[f"attract_{i}"]) for i in range(1, 5)) / 4)
    assert {r["mc_manager"] for r in done} == {"trust", "control", "appraisal"}
    assert {r["taught_tbm"] for r in done} == set(contract.ANSWER_CODES["taught_tbm"])
    assert {r["programme_level"] for r in done} == set(contract.ANSWER_CODES["programme_level"])


def test_every_scale_was_shown_at_every_position_and_the_order_is_recorded(classroom_rows):
    done = [r for r in classroom_rows if r["completed"] == "1"]
    orders = [r["scale_order"].split(",") for r in done]
    assert all(sorted(o) == sorted(contract.RATED_SCALES) for o in orders)
    # random per student: every scale at every position (a fixed order would fail this)
    assert {(position, scale) for o in orders for position, scale in enumerate(o)} == {
        (position, scale) for position in range(len(contract.RATED_SCALES)) for scale in contract.RATED_SCALES}
    assert len({tuple(o) for o in orders}) > 10


def test_cryptographic_sessions_export_an_empty_seed(classroom_rows):
    assert {r["seed"] for r in classroom_rows} == {""}


def test_withdrawal_codes_are_unique(classroom_rows):
    codes = [r["withdrawal_code"] for r in classroom_rows if r["withdrawal_code"]]
    assert len(codes) == len(set(codes)) == 110


def test_demo_config_runs_and_is_marked_demo(tmp_path):
    rows = run_bots(tmp_path, "demo", 8)
    assert len(rows) == 8
    assert {r["site"] for r in rows if r["assigned"] == "1"} == {"oslo"}
    assert {r["seed"] for r in rows if r["consented"] == "1"} == {"demo"}
