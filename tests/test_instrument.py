"""The instrument texts: same keys in every language, placeholders intact, no give-aways."""

import re
import string

import pytest

from analysis import contract
from collab_experiment import texts, tidy


def placeholders(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_every_language_has_exactly_the_master_keys(language):
    missing, extra = texts.key_differences(texts.load(language), texts.load(texts.MASTER))
    assert not missing and not extra


@pytest.mark.parametrize("language", ["nb", "da"])
def test_translations_keep_the_placeholders_of_the_master(language):
    master = texts._flatten(texts.load("en"))
    ours = texts._flatten(texts.load(language))
    for key, value in master.items():
        if isinstance(value, str):
            assert placeholders(ours[key]) == placeholders(value), key


def test_unreviewed_languages_are_flagged_and_english_is_reviewed():
    assert texts.load("en")["meta"]["reviewed"] is True
    for language in ("nb", "da"):
        assert isinstance(texts.load(language)["meta"]["reviewed"], bool)


@pytest.mark.parametrize("language,word", [("en", "trust"), ("nb", "tillit"), ("da", "tillid")])
def test_the_word_trust_never_appears_in_the_manipulated_text(language, word):
    v = texts.load(language)["vignette"]
    manipulated = " ".join([*v["manager"].values(), *v["partner"].values()])
    assert word not in manipulated.lower()


def test_manager_texts_are_parallel_sentence_for_sentence():
    # The research team's master text has four sentences per arm; the arms must match
    # each other and the master in every language.
    count = lambda text: len(re.findall(r"[.!?](\s|$)", text))
    master = texts.load("en")["vignette"]["manager"]
    for language in texts.LANGUAGES:
        manager = texts.load(language)["vignette"]["manager"]
        assert count(manager["trust"]) == count(manager["control"]) == count(master["trust"]), language


def test_seven_point_labels_match_the_key_terms_table():
    assert list(texts.load("nb")["scales"]["agree7"].values()) == [
        "Helt uenig", "Uenig", "Litt uenig", "Verken enig eller uenig", "Litt enig", "Enig", "Helt enig"]
    assert list(texts.load("da")["scales"]["agree7"].values()) == [
        "Helt uenig", "Uenig", "Lidt uenig", "Hverken enig eller uenig", "Lidt enig", "Enig", "Helt enig"]


def test_attention_item_asks_for_the_pass_value():
    for language in texts.LANGUAGES:
        t = texts.load(language)
        wanted = t["scales"]["agree7"][str(contract.ATTENTION_PASS_VALUE)]
        assert wanted in t["questions"]["attention"]["label"], language


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_every_programme_and_cell_renders_a_complete_vignette(language):
    for programme, profession in [("nursing", "teacher"), ("teacher", "nurse"), ("management", "nurse"),
                                  ("public_admin", "teacher"), ("other", "nurse")]:
        for manager in ("trust", "control"):
            paragraphs = texts.vignette(language, programme, manager, "other", profession)
            assert len(paragraphs) == 4 and all("{" not in p for p in paragraphs)


def test_contract_columns_are_the_design_documents():
    expected = (
        "participant_code session_code site language instrument_version "
        "consented assigned completed withdrawn last_page timed_out_pages "
        "programme manager partner partner_profession stratum block block_position "
        "assignment_probability assigned_at assignment_version "
        "programme_level year_of_study age_band gender municipal_experience "
        "psm_1 psm_2 psm_3 psm attention_pass "
        "attract_1 attract_2 attract_3 attract_4 trust_1 trust_2 trust_3 trust_4 "
        "collab_1 collab_2 collab_3 collab_4 collab_5 "
        "attractiveness trust_manager collaboration "
        "mc_manager mc_partner mc_manager_correct mc_partner_correct "
        "autonomy_1 autonomy_2 autonomy_3 autonomy realism taught_tbm "
        "scale_order item_order seconds_vignette seconds_total"
    ).split()
    assert list(contract.TIDY_COLUMNS) == expected


def test_a_declined_participant_row_holds_nothing_but_flow():
    row = tidy.tidy_row(
        {"programme": "nursing", "psm_1": 5}, dict(code="abc", consented=False), dict(code="s1", is_demo=False)
    )
    filled = {k for k, v in row.items() if v not in (None, "", False, 0)}
    assert filled == {"participant_code", "session_code"}
    assert row["consented"] is False


def test_scale_score_is_the_mean_of_answered_items_when_at_least_half_are():
    assert contract.scale_score([1, 2, 6]) == 3
    assert contract.scale_score([1, None, 6, None]) == 3.5
    assert contract.scale_score([1, None, None]) is None
    assert contract.scale_score([None, None]) is None
    assert contract.scale_score([4, float("nan"), 6]) == 5  # pandas' missing value too


def test_presentation_orders_shuffle_within_scales_and_keep_dont_know_last():
    import random

    seen = set()
    for seed in range(200):
        orders = texts.draw_orders(random.Random(seed))
        for scale in contract.RATED_SCALES:
            assert sorted(orders[scale]) == sorted(contract.SCALES[scale])
        assert orders["mc_manager"][-1] == orders["mc_partner"][-1] == contract.DONT_KNOW
        seen.add(tuple(orders["collaboration"]))
    assert len(seen) > 50  # 5! = 120 orders possible; the shuffle reaches many of them


def test_the_bots_only_dry_run_config_is_hidden_from_instructors():
    import subprocess
    import sys

    names = lambda env: subprocess.run(
        [sys.executable, "-c", "import settings; print(' '.join(c['name'] for c in settings.SESSION_CONFIGS))"],
        capture_output=True, text=True, check=True, env=env).stdout.split()
    import os

    plain = {k: v for k, v in os.environ.items() if k != "OTREE_DRYRUN"}
    assert "dryrun" not in names(plain)
    assert "dryrun" in names({**plain, "OTREE_DRYRUN": "1"})
