"""The instrument texts: same keys in every language, placeholders intact, no give-aways."""

import collections
import re
import string

import pytest

from analysis import contract
from analysis.nested import flatten
from collab_experiment import texts, tidy


def placeholders(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_every_language_has_exactly_the_master_keys(language):
    missing, extra = texts.key_differences(texts.load(language), texts.load(texts.MASTER))
    assert not missing and not extra


@pytest.mark.parametrize("language", ["nb", "da"])
def test_translations_keep_the_placeholders_of_the_master(language):
    master = flatten(texts.load("en"))
    ours = flatten(texts.load(language))
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


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def test_manager_texts_are_five_parallel_sentences_in_every_language():
    # Instrument 2026.2: five sentences per arm, in the same order (goals, methods,
    # documentation, planning of the work, follow-up), of comparable length, both
    # starting with the manager's name, so the arms differ in content and not in form.
    for language in texts.LANGUAGES:
        manager = texts.load(language)["vignette"]["manager"]
        trust, control = sentences(manager["trust"]), sentences(manager["control"])
        assert len(trust) == len(control) == 5, language
        assert trust[0].split(",")[:2] == control[0].split(",")[:2], language  # "Your manager, Anne,"
        assert trust[4].split()[:3] == control[4].split()[:3], language  # "Anne follows up"
        for a, b in zip(trust, control):
            assert 0.5 < len(a) / len(b) < 2, (language, a, b)
        ratio = len(manager["trust"]) / len(manager["control"])
        assert 0.85 < ratio < 1.15, (language, ratio)


def test_the_partner_arms_differ_only_in_profession_and_education():
    # Kim's experience is held constant: the second sentence is the same in both arms.
    for language in texts.LANGUAGES:
        partner = texts.load(language)["vignette"]["partner"]
        same, other = sentences(partner["same"]), sentences(partner["other"])
        assert len(same) == len(other) == 2 and same[1] == other[1], language


def test_the_versions_agree_across_languages():
    metas = [texts.load(language)["meta"] for language in texts.LANGUAGES]
    assert {m["instrument_version"] for m in metas} == {"2026.2"}
    assert {m["consent_version"] for m in metas} == {"consent-2026.2"}
    assert [m["reviewed"] for m in metas if m["language"] != "en"] == [False, False]


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_the_manager_check_has_a_third_option_that_is_never_correct(language):
    choices = texts.choice_labels(language, "mc_manager")
    assert list(choices) == ["trust", "control", "appraisal", "dont_know"]
    v = texts.load(language)["vignette"]["manager"]
    # neither text describes it: its key word appears in no manager text
    assert not any(word in " ".join(v.values()).lower() for word in ("annual", "årlig"))
    assert "appraisal" not in contract.FACTORS["manager"]  # correct = the student's own arm only
    assert contract.check_correct("appraisal", "trust") is False and contract.check_correct("appraisal", "control") is False


@pytest.mark.parametrize("language", ["nb", "da"])
def test_norwegian_and_danish_texts_follow_the_style_rules(language):
    everything = " ".join(v for v in flatten(texts.load(language)).values() if isinstance(v, str))
    assert "venligst" not in everything.lower() and "vennligst" not in everything.lower()
    assert "Hvor enig eller uenig er du" in texts.load(language)["pages"]["outcomes_intro"]
    assert "Hvor enig eller uenig er du" in texts.load(language)["pages"]["motivation_intro"]
    assert texts.load(language)["ui"]["error_choose"] in ("Vælg et af svarene.", "Velg ett av svarene.")


def test_the_consent_page_no_longer_primes_the_partner_factor_or_promises_skipping():
    for language, words in [("en", ("across professions", "skip")),
                            ("nb", ("tverrprofesjonel", "hoppe over")),
                            ("da", ("tværprofessionel", "springe over"))]:
        consent = texts.load(language)["consent"]
        assert not any(w in (consent["purpose"] + consent["voluntary"]).lower() for w in words), language


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


def test_scale_orders_are_drawn_at_random_and_read_back():
    import itertools
    import random

    rng = random.Random(5)
    orders = set(itertools.permutations(contract.RATED_SCALES))  # 24 with four scales
    seen = collections.Counter(tuple(texts.draw_scale_order(rng)) for _ in range(100 * len(orders)))
    assert set(seen) == orders  # every order occurs
    assert min(seen.values()) > 50  # each about 100 times: no order is favoured
    order = list(reversed(contract.RATED_SCALES))
    assert texts.parse_scale_order(",".join(order)) == order
    for broken in (None, "", "collaboration,autonomy", "a,b,c,d"):
        assert texts.parse_scale_order(broken) == list(contract.RATED_SCALES)


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


# ------------------------------------------------ study details and programme names


def consent_letter(language: str, env: dict) -> str:
    """The consent screen and full letter as a student reads them, with the study details
    a deployment with environment `env` has (rendered as consent/__init__.py does)."""
    import settings

    study = settings.study_details(env)[language]
    return "\n".join(v.format(**study) for v in texts.load(language)["consent"].values())


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_the_consent_letter_holds_no_study_detail_of_another_language(language):
    import settings

    letter = consent_letter(language, {})
    own = settings.STUDY_TEXT_DEFAULTS
    for name, values in own.items():
        assert values[language] in letter, name
        for other in texts.LANGUAGES:
            value = values[other]
            if other == language or value in values[language]:
                continue  # the same words in both languages (e.g. "Datatilsynet")
            assert value not in letter, (language, other, name, value)
    assert "{" not in letter


def test_study_details_are_overridden_per_language_and_shared_ones_once():
    import settings

    env = {"STUDY_STORAGE_NB": "på OsloMets server", "STUDY_STORAGE": "on our server",
           "STUDY_CONTACT_EMAIL": "x@example.org", "STUDY_PROJECT_LEADER": "A. Researcher"}
    study = settings.study_details(env)
    assert study["nb"]["storage"] == "på OsloMets server"
    assert study["da"]["storage"] == study["en"]["storage"] == "on our server"
    assert {study[lang]["contact_email"] for lang in texts.LANGUAGES} == {"x@example.org"}
    assert {study[lang]["project_leader"] for lang in texts.LANGUAGES} == {"A. Researcher"}
    assert "på OsloMets server" in consent_letter("nb", env) and "på OsloMets server" not in consent_letter("da", env)
    assert set(settings.STUDY) == set(texts.LANGUAGES)


def test_a_site_shows_its_own_programme_names_with_the_fixed_codes():
    import settings

    names = settings.programme_names({"PROGRAMME_NAMES_OSLO_NB": "public_admin=Offentlig administrasjon og ledelse"})
    labels = texts.programme_labels("nb", "oslo", names)
    assert labels["public_admin"] == "Offentlig administrasjon og ledelse"
    assert list(labels) == list(texts.choice_labels("nb", "programme"))  # codes unchanged
    assert labels["nursing"] == texts.choice_labels("nb", "programme")["nursing"]
    assert texts.programme_labels("da", "oslo", names) == texts.choice_labels("da", "programme")
    assert texts.programme_labels("nb", "aarhus", names) == texts.choice_labels("nb", "programme")
    assert texts.programme_labels("nb", None, names) == texts.choice_labels("nb", "programme")
    assert not texts.programme_name_problems(names)
    bad = settings.programme_names({"PROGRAMME_NAMES_AARHUS_DA": "economics=Økonomi; nursing="})
    assert len(texts.programme_name_problems(bad)) == 2


def test_the_room_welcome_page_says_what_the_instrument_files_say():
    # Shown before a language is chosen, so in every language at once; the template is
    # static (oTree renders it), the words are the instrument files' `welcome` section.
    import html
    import pathlib

    page = html.unescape((pathlib.Path(__file__).parents[1] / "_templates/global/RoomWelcome.html").read_text())
    heading = " · ".join(texts.load(lang)["welcome"]["title"] for lang in contract.LANGUAGES)
    assert f"<h1>{heading}</h1>" in page
    for lang in contract.LANGUAGES:
        welcome = texts.load(lang)["welcome"]
        assert f'<p lang="{lang}">{welcome["body"]}</p>' in page
        assert f'id="start">{welcome["start"]}</a>' in page


@pytest.mark.parametrize("template,section", [("otree/WaitPageGeneric.html", "waiting"),
                                              ("otree/OutOfRangeNotification.html", "no_more_pages")])
def test_otree_pages_we_replace_say_what_the_instrument_files_say(template, section):
    # oTree renders these static templates (ours in _templates/ come before its own), so
    # the words are copied in: every language's title and body, and the tab's title.
    import html
    import pathlib

    page = html.unescape((pathlib.Path(__file__).parents[1] / "_templates" / template).read_text())
    for lang in contract.LANGUAGES:
        words = texts.load(lang)[section]
        assert f'<section lang="{lang}"><h1>{words["title"]}</h1><p>{words["body"]}</p></section>' in page
    title = " · ".join(texts.load(lang)[section]["title"] for lang in contract.LANGUAGES)
    assert f"<title>{title}</title>" in page
    assert page.count("<section ") == len(contract.LANGUAGES)


def test_pages_in_every_language_come_from_the_instrument_files():
    from collab_experiment import instructor

    for section, page in (("server_error", instructor.ERROR_HTML.replace("{{", "{").replace("}}", "}")),
                          ("full", instructor.full_session_response().body.decode()),
                          ("bad_link", instructor.bad_link_response().body.decode())):
        for lang in contract.LANGUAGES:
            words = texts.load(lang)[section]
            assert f'<section lang="{lang}"><h1>{words["title"]}</h1><p>{words["body"]}</p></section>' in page
