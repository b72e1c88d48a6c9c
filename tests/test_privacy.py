"""Privacy by default: no IP address stored, no free-text answers, codes that cannot be guessed."""

import random
import sqlite3

from analysis import contract
import collab_experiment
import consent

from student import Student


def test_no_ip_address_or_browser_fingerprint_is_stored(server):
    session = server.create_session("classroom", 4, language="en")
    for i in range(2):
        Student(session["session_wide_url"], programme="nursing", seed=i).open().walk()
    con = sqlite3.connect(server.folder / "db.sqlite3")
    dump = "\n".join(con.iterdump())
    con.close()
    assert "127.0.0.1" not in dump
    assert "python-requests" not in dump  # the client's User-Agent


def test_every_question_offers_fixed_answers_and_none_invites_free_text():
    form_fields = set()
    for app in (collab_experiment, consent):
        for page in app.page_sequence:
            form_fields |= set(getattr(page, "form_fields", []) or [])
    form_fields |= {"year_of_study", "campus", "age_band", "gender", "municipal_experience"}
    for scale in (contract.SCALES[s] for s in contract.RATED_SCALES):
        form_fields |= set(scale)
    for name in form_fields:
        model = collab_experiment.Player if hasattr(collab_experiment.Player, name) else consent.Player
        field = getattr(model, name)
        assert field.form_props.get("choices"), f"{name} accepts free text"


def test_participant_codes_come_from_a_cryptographic_source():
    import otree.common

    assert isinstance(otree.common.rng, random.SystemRandom)
    codes = {otree.common.random_chars_8() for _ in range(2000)}
    assert len(codes) == 2000
