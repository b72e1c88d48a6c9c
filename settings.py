"""oTree settings for the classroom vignette experiment.

Everything a deployment changes lives here or in the environment: the session
configurations an instructor picks from, the rooms, and the study's contact details
shown on the consent page. Secrets come only from the environment.
"""

import sys
from os import environ

from analysis import contract
from analysis.deployment import (  # noqa: F401  (ADMIN_USERNAME is oTree's setting)
    ADMIN_PASSWORD_FILE, ADMIN_USERNAME, DEV_SECRET_KEY, admin_login_banner, generated_admin_password,
    production_problems, server_address,
)

SESSION_CONFIG_DEFAULTS = dict(
    real_world_currency_per_point=1.00,
    participation_fee=0.00,
    doc="",
    # site: oslo / aarhus / other, or blank to ask each student for their campus.
    site="",
    # language: nb / da / en; students can switch on the first page.
    language="nb",
    # block_size: 4 (cells differ by at most one at every moment) or 8.
    block_size=4,
    # seed: blank = cryptographic randomness; any text = reproducible (demos), recorded.
    seed="",
)

SESSION_CONFIGS = [
    dict(
        name="classroom",
        display_name="Classroom: trust-based management vignette (2×2)",
        app_sequence=["consent", "collab_experiment"],
        num_demo_participants=4,
        doc="""
        One session per class. Settings: <b>site</b> (oslo / aarhus / other, or blank to
        ask the campus), <b>language</b> (nb / da / en), <b>block_size</b> (4 or 8),
        <b>seed</b> (blank = cryptographic randomness).
        """,
    ),
    dict(
        name="demo",
        display_name="Demo: try the student's path (English, seeded)",
        app_sequence=["consent", "collab_experiment"],
        num_demo_participants=8,
        language="en",
        site="oslo",
        seed="demo",
        doc="For trying the survey; demo sessions are dropped by the analysis.",
    ),
]

# The dry run's bots-only config exists only for `python -m analysis demo`, which sets
# OTREE_DRYRUN=1 for its own throw-away server: an instructor can never pick it (its
# seed is fixed, so its assignments would be predictable). `otree test dryrun N` sends
# a simulated class through the real apps; the bots (collab_experiment/tests.py) answer
# from a data-generating process with these effects for their assigned cell.
if environ.get("OTREE_DRYRUN") == "1":
    SESSION_CONFIGS.append(dict(
        next(c for c in SESSION_CONFIGS if c["name"] == "demo"),  # its apps, language, site
        name="dryrun",
        display_name="Dry run: a simulated class of bots (python -m analysis demo)",
        num_demo_participants=200,
        seed="dryrun",
        dgp_effect_manager=0.5,  # trust - control on attractiveness, trust_manager, autonomy (scale points)
        dgp_effect_partner=-0.4,  # other - same on collaboration (scale points)
        dgp_effect_interaction=0.0,  # manager:partner on collaboration (scale points)
        dgp_decline=0.03,  # share of bots who decline consent
        dgp_seed=1,
        doc="Bots only: the dry run of the analysis. Never for a real class.",
    ))

# Study details, shown on the consent page and in its full letter (and the contact e-mail
# on the debrief). One place, not in templates. Every text value exists in each language
# of the survey, so a Danish student never reads a Norwegian or English sentence inside
# the Danish letter. A deployment overrides a value for one language with
# STUDY_<NAME>_<LANGUAGE> (e.g. STUDY_STORAGE_NB), or for all languages at once with
# STUDY_<NAME> (a person's name, say). The contact e-mail and the reference are the same
# in every language (STUDY_CONTACT_EMAIL, STUDY_REFERENCE).
STUDY_LANGUAGES = contract.LANGUAGES
STUDY_TEXT_DEFAULTS = dict(
    controller=dict(
        en="OsloMet – Oslo Metropolitan University",
        nb="OsloMet – storbyuniversitetet",
        da="OsloMet – storbyuniversitetet (Oslo)",
    ),
    partners=dict(en="Aarhus University", nb="Aarhus Universitet", da="Aarhus Universitet"),
    project_leader=dict(en="the project leader", nb="prosjektlederen", da="projektlederen"),
    dpo=dict(
        en="the institution's data protection officer (personvernombud@example.org)",
        nb="institusjonens personvernombud (personvernombud@example.org)",
        da="institutionens databeskyttelsesrådgiver (personvernombud@example.org)",
    ),
    authority=dict(
        en="the Data Protection Authority (Datatilsynet)",
        nb="Datatilsynet",
        da="Datatilsynet",
    ),
    storage=dict(
        en="on the university's secure research server",
        nb="på universitetets sikre forskningsserver",
        da="på universitetets sikre forskningsserver",
    ),
    deletion_date=dict(en="31 December 2030", nb="31. desember 2030", da="31. december 2030"),
)
STUDY_SHARED_DEFAULTS = dict(contact_email="trust-study@example.org", reference="REF-2026-000")


def study_details(env=environ) -> dict[str, dict[str, str]]:
    """Language → the study details in that language (defaults, then the environment)."""
    shared = {name: env.get(f"STUDY_{name.upper()}") or default for name, default in STUDY_SHARED_DEFAULTS.items()}
    return {
        language: {
            **{
                name: env.get(f"STUDY_{name.upper()}_{language.upper()}")
                or env.get(f"STUDY_{name.upper()}")
                or defaults[language]
                for name, defaults in STUDY_TEXT_DEFAULTS.items()
            },
            **shared,
        }
        for language in STUDY_LANGUAGES
    }


STUDY = study_details()

# Programme names per site. The codes are fixed (nursing, teacher, management,
# public_admin, other); a site may show its own names for them on the programme page,
# per language, e.g. {"oslo": {"nb": {"public_admin": "Offentlig administrasjon og ledelse"}}}.
# From the environment: PROGRAMME_NAMES_<SITE>_<LANGUAGE>="public_admin=Offentlig
# administrasjon og ledelse; management=Ledelse". Codes not named keep the default name.
PROGRAMME_SITES = ("oslo", "aarhus", "other")


def programme_names(env=environ) -> dict[str, dict[str, dict[str, str]]]:
    names: dict[str, dict[str, dict[str, str]]] = {}
    for site in PROGRAMME_SITES:
        for language in STUDY_LANGUAGES:
            raw = env.get(f"PROGRAMME_NAMES_{site.upper()}_{language.upper()}") or ""
            pairs = [part.split("=", 1) for part in raw.split(";") if part.strip()]
            own = {code.strip(): (label[0].strip() if label else "") for code, *label in pairs}
            if own:
                names.setdefault(site, {})[language] = own
    return names


PROGRAMME_NAMES = programme_names()

PARTICIPANT_FIELDS = [
    "language",  # the language the student reads in (switchable on the first page)
    "consented",
    "started_at",  # epoch seconds when the consent page was first shown
    "vignette_shown_at",
    "timed_out_pages",  # pages the admin forced forward; nothing is stored for them
]
SESSION_FIELDS = []

# Rooms without participant labels: a student is recognised by a cookie. The welcome
# page is the project's own (three languages, works without JavaScript).
ROOMS = [
    dict(name=name, display_name=display_name, welcome_page="global/RoomWelcome.html")
    for name, display_name in [
        ("oslo", "Oslo lecture hall"),
        ("aarhus", "Aarhus lecture hall"),
        ("class", "Any class"),
    ]
]

# oTree shows tracebacks and debug panels whenever OTREE_PRODUCTION is unset, which is
# how the quick start runs on real data. Students must never see a traceback, so debug
# output is opt-in for developers: OTREE_DEBUG=1.
DEBUG = environ.get("OTREE_DEBUG", "") == "1"

# Keep 'en': oTree's WTForms has no Danish locale, and every participant-facing
# string (errors and buttons included) comes from the project's own texts anyway.
LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "NOK"
USE_POINTS = True

# --------------------------------------------------------------------------- the admin
# The admin password. Set: that one. Set to empty (OTREE_ADMIN_PASSWORD=): the admin is
# open, as the test suite runs it. Unset on `otree prodserver` (not in production, which
# demands it): Jupyter-style, a password is generated, printed with the admin URL in the
# server's first lines, and used. It is kept in ADMIN_PASSWORD_FILE (`.admin-password`,
# git-ignored, only the owner may read it) so that a restart keeps it: oTree signs the
# students' cookies with the admin password, so a new one would make every student a new
# participant. It also goes into the environment, where `otree timeoutsubprocess`
# (started by prodserver after this module is imported) inherits the same value.
# The helpers (the server's address, the password file, the banner, the production
# check) are in analysis/deployment.py.

_production = environ.get("OTREE_PRODUCTION") not in (None, "", "0")
_GENERATED_PASSWORD = (
    "OTREE_ADMIN_PASSWORD" not in environ and not _production and server_address() is not None
)
if _GENERATED_PASSWORD:
    environ["OTREE_ADMIN_PASSWORD"] = generated_admin_password()
ADMIN_PASSWORD = environ.get("OTREE_ADMIN_PASSWORD") or None
# With a password set, the admin and REST API are closed to anyone without it, even
# when OTREE_AUTH_LEVEL is not set (oTree would leave them open).
AUTH_LEVEL = environ.get("OTREE_AUTH_LEVEL") or ("STUDY" if ADMIN_PASSWORD else None)

DEMO_PAGE_INTRO_HTML = """
Classroom vignette experiment on trust-based management. Use <b>demo</b> to walk
the student's path; create <b>classroom</b> sessions in a room for real classes.
"""

SECRET_KEY = environ.get("OTREE_SECRET_KEY", DEV_SECRET_KEY)


if _production:
    _problems = production_problems()
    if _problems:
        sys.exit(
            "Refusing to start in production (OTREE_PRODUCTION=1):\n  - "
            + "\n  - ".join(_problems)
            + "\nSee README.md, 'Deploying on PostgreSQL'."
        )

if _GENERATED_PASSWORD:
    print(admin_login_banner(ADMIN_PASSWORD, server_address()), flush=True)
