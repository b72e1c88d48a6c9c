"""The app and the analysis speak one vocabulary (`analysis.contract`).

Fast and server-free: the Player model is read from the app's source (oTree builds
models at import), the instrument files as data. A column added only in the app, a
code only in the texts, or a scale without its page fails here, not in a real export.
"""
from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys

import pytest

from analysis import contract

ROOT = pathlib.Path(__file__).resolve().parent.parent
APP = ROOT / "collab_experiment"
LANGUAGES = contract.LANGUAGES

#: Columns of the export that are not Player fields: participant facts, the scores the
#: export computes, and the session's flags.
NOT_ON_PLAYER = {"participant_code", "session_code", "consented", "assigned", "last_page",
                 *contract.SCALES, "is_demo", "is_bot", "consent_version"}


def player_fields() -> set[str]:
    tree = ast.parse((APP / "__init__.py").read_text(encoding="utf-8"))
    player = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Player")
    return {t.id for n in player.body if isinstance(n, ast.Assign) for t in n.targets
            if isinstance(t, ast.Name)}


def instrument(language: str) -> dict:
    return json.loads((APP / "instrument" / f"{language}.json").read_text(encoding="utf-8"))


def test_every_player_field_is_an_export_column_and_back():
    fields = player_fields()
    assert fields - set(contract.EXPORT_COLUMNS) == set(), "a Player field the analysis would drop"
    assert set(contract.EXPORT_COLUMNS) - NOT_ON_PLAYER - fields == set(), "a column no Player field fills"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_instrument_words_exactly_the_vocabulary_codes(language):
    questions = instrument(language)["questions"]
    for field, codes in contract.ANSWER_CODES.items():
        if field in ("manager", "partner", "partner_profession", "site", "language"):
            continue  # assigned or configured, never asked
        assert field in questions, f"{language}: no question for {field}"
        assert list(questions[field]["choices"]) == [str(c) for c in codes], (language, field)
    rated = {q for q, spec in questions.items() if spec.get("scale") == "agree7"}
    assert rated == set(contract.LIKERT_ITEMS), language
    agree = instrument(language)["scales"]["agree7"]
    assert [int(k) for k in agree] == list(contract.LIKERT)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_rated_scale_has_its_page_words(language):
    pages = instrument(language)["pages"]
    assert set(contract.RATED_SCALES) <= set(pages), language


def test_categories_are_the_answer_codes_plus_only_the_analysis_own():
    for field, codes in contract.CATEGORIES.items():
        extra = set(codes) - set(contract.ANSWER_CODES[field])
        assert extra == set(contract.COARSENED_CODES.get(field, ())), field


def test_the_vocabulary_imports_neither_otree_nor_pandas():
    code = "import sys, analysis.contract; print(sorted(m for m in ('otree', 'pandas', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_decliner_rule_keeps_flow_only():
    row = dict.fromkeys(contract.EXPORT_COLUMNS, "x")
    kept = {k for k, v in contract.decliner_row(row).items() if v is not None}
    assert kept == set(contract.DECLINER_KEEPS)
    assert "programme" not in kept and "attract_1" not in kept


def test_the_vocabulary_names_the_instrument_files_version():
    versions = {instrument(lang)["meta"]["instrument_version"] for lang in LANGUAGES}
    assert versions == {contract.INSTRUMENT_VERSION}
