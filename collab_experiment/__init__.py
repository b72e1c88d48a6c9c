"""The vignette experiment: background → assignment → vignette → the four scales (in a
random order per student) → checks → realism and teaching → debrief.

Thin oTree edge: texts come from `texts.py`, assignment from `assignment.py`, the export
row from `tidy.py`. Field names, codes and scales are the vocabulary's (`analysis.contract`);
every text in the three languages, with the codes, is in docs/instrument.md.
"""

import json
import random
import time

from otree.api import BaseConstants, BaseGroup, BasePlayer, BaseSubsession, models

import settings
from analysis import contract
from . import assignment, class_results_view, dashboard, instructor, otree_glue, texts, tidy, withdrawal
from .survey_page import SurveyPage, language_of, read_var, stamp_once

# The one call into oTree's internals: checks oTree's version; admin views, the "full" and
# error pages, cryptographic codes, locked exports, no client addresses in the log.
otree_glue.install()

doc = __doc__


class C(BaseConstants):
    NAME_IN_URL = "study"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


def _likert():
    return models.IntegerField(choices=list(contract.LIKERT))


def _choice(field, **kwargs):
    return models.StringField(choices=list(contract.ANSWER_CODES[field]), **kwargs)


class Player(BasePlayer):
    # identity and flow
    site = models.StringField(blank=True)
    language = models.StringField(blank=True)
    instrument_version = models.StringField(blank=True)
    completed = models.BooleanField(initial=False)
    withdrawn = models.BooleanField(initial=False)
    withdrawal_code = models.StringField(blank=True)
    timed_out_pages = models.StringField(blank=True)

    # background (before treatment)
    programme = _choice("programme")
    programme_level = _choice("programme_level")
    year_of_study = models.IntegerField(choices=list(contract.ANSWER_CODES["year_of_study"]))
    campus = _choice("campus")
    age_band = _choice("age_band")
    gender = _choice("gender", blank=True)
    municipal_experience = _choice("municipal_experience")
    psm_1 = _likert()
    psm_2 = _likert()
    psm_3 = _likert()
    attention = _likert()
    attention_pass = models.BooleanField()

    # design and its audit trail
    manager = models.StringField(blank=True)
    partner = models.StringField(blank=True)
    partner_profession = models.StringField(blank=True)
    stratum = models.StringField(blank=True)
    block = models.IntegerField(blank=True)
    block_position = models.IntegerField(blank=True)
    block_size = models.IntegerField(blank=True)
    assignment_probability = models.FloatField(blank=True)
    assigned_at = models.StringField(blank=True)
    assignment_version = models.StringField(blank=True)
    item_order = models.LongStringField(blank=True)
    scale_order = models.StringField(blank=True)  # the scale pages as shown, comma-separated
    seed = models.StringField(blank=True)  # the session's seed (demos); blank = cryptographic

    # outcomes (1–7)
    attract_1 = _likert()
    attract_2 = _likert()
    attract_3 = _likert()
    attract_4 = _likert()
    trust_1 = _likert()
    trust_2 = _likert()
    trust_3 = _likert()
    trust_4 = _likert()
    collab_1 = _likert()
    collab_2 = _likert()
    collab_3 = _likert()
    collab_4 = _likert()
    collab_5 = _likert()
    autonomy_1 = _likert()
    autonomy_2 = _likert()
    autonomy_3 = _likert()

    # manipulation checks (after the outcomes)
    mc_manager = _choice("mc_manager")
    mc_partner = _choice("mc_partner")
    mc_manager_correct = models.BooleanField()
    mc_partner_correct = models.BooleanField()

    # after the checks (never before the vignette: asking would prime it)
    realism = _likert()
    taught_tbm = _choice("taught_tbm")

    # timing
    seconds_vignette = models.FloatField(blank=True)
    seconds_total = models.FloatField(blank=True)


def creating_session(subsession: Subsession):
    config = subsession.session.config
    problems = []
    if str(config.get("site") or "") not in ("", "oslo", "aarhus", "other"):
        problems.append(f"site must be oslo, aarhus, other or blank, not {config.get('site')!r}")
    if config.get("language") not in texts.LANGUAGES:
        problems.append(f"language must be one of {', '.join(texts.LANGUAGES)}, not {config.get('language')!r}")
    if config.get("block_size") not in assignment.BLOCK_SIZES:
        problems.append(f"block_size must be 4 or 8, not {config.get('block_size')!r}")
    problems += texts.programme_name_problems(getattr(settings, "PROGRAMME_NAMES", {}))
    if problems:
        raise ValueError("Session settings: " + "; ".join(problems))


def vars_for_admin_report(subsession: Subsession):
    """The instructor's live dashboard: class totals exact, small counts per programme or cell masked."""
    session = subsession.session
    unreviewed = [code for code in texts.LANGUAGES if not texts.load(code)["meta"]["reviewed"]]
    summary = dashboard.summary(instructor.participant_rows(session))
    return dict(
        summary=summary,
        labels=instructor.dashboard_labels(summary["left_after_minutes"]),
        link_may_be_loopback=instructor.link_may_be_loopback(),
        projector_url=f"/Projector/{session.code}",
        counts_url=f"/ClassCounts/{session.code}",
        unreviewed=", ".join(unreviewed),
        **class_results_view.report_vars(session),  # "Show the class its results"
    )


def _seed(session):
    seed = str(session.config.get("seed") or "").strip()
    return seed or None


def _rng_for(player) -> random.Random:
    """Presentation order randomness: cryptographic, or reproducible from the seed and
    the session code."""
    return assignment.presentation_rng(_seed(player.session), player.session.code, player.participant.id_in_session)


def assign_player(player) -> None:
    """Assign once: the state lives in the session, the audit trail on the player."""
    if player.field_maybe_none("manager") or player.field_maybe_none("programme") is None:
        return
    session = player.session
    state = session.vars.get("assignment") or assignment.new_state()
    state, result = assignment.assign(
        state,
        player.programme,
        block_size=int(session.config.get("block_size") or 4),
        seed=_seed(session),
        session_code=session.code,
    )
    session.vars["assignment"] = state
    for field in (
        "manager", "partner", "partner_profession", "stratum", "block", "block_position",
        "block_size", "assignment_probability", "assigned_at", "assignment_version",
    ):
        setattr(player, field, getattr(result, field))
    rng = _rng_for(player)
    player.item_order = tidy.item_order_json(texts.draw_orders(rng))
    player.scale_order = ",".join(texts.draw_scale_order(rng))
    player.seed = _seed(session) or ""
    player.withdrawal_code = withdrawal.new_code()


def _consented(player) -> bool:
    return bool(read_var(player.participant, "consented"))


def _assigned(player) -> bool:
    return _consented(player) and bool(player.field_maybe_none("manager"))


def _orders(player) -> dict:
    raw = player.field_maybe_none("item_order")
    return json.loads(raw) if raw else {}


# PAGES
class _AfterConsent(SurveyPage):
    """Shown only to students who agreed to take part."""

    @staticmethod
    def is_displayed(player):
        return _consented(player)


class _AfterAssignment(SurveyPage):
    """Shown only to students who were assigned (consented, and answered the programme)."""

    @staticmethod
    def is_displayed(player):
        return _assigned(player)


class AboutYou(_AfterConsent):
    form_model = "player"
    title_key = "about_you"
    stepper = True

    @staticmethod
    def get_form_fields(player):
        fields = ["year_of_study", "campus", "age_band", "gender", "municipal_experience"]
        if player.session.config.get("site"):
            fields.remove("campus")  # the session fixes the site
        return fields

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.language = language_of(player.participant)
        player.instrument_version = texts.load(player.language)["meta"]["instrument_version"]
        player.site = player.session.config.get("site") or player.field_maybe_none("campus")


class Motivation(_AfterConsent):
    form_model = "player"
    form_fields = list(contract.MOTIVATION_ITEMS)
    title_key = "motivation"
    intro_key = "motivation_intro"
    stepper = True

    @staticmethod
    def before_next_page(player, timeout_happened):
        attention = player.field_maybe_none("attention")
        if attention is not None:
            player.attention_pass = attention == contract.ATTENTION_PASS_VALUE


class Programme(_AfterConsent):
    """The page that asks the programme and its level; assignment happens once, right
    after it. The programmes carry the site's own names where the deployment sets them."""

    form_model = "player"
    form_fields = ["programme", "programme_level"]
    title_key = "programme"

    @staticmethod
    def option_labels(player, language):
        site = player.field_maybe_none("site")
        return dict(programme=texts.programme_labels(language, site, getattr(settings, "PROGRAMME_NAMES", {})))

    @staticmethod
    def before_next_page(player, timeout_happened):
        if not timeout_happened:
            assign_player(player)


class Vignette(_AfterAssignment):
    template_name = "collab_experiment/Vignette.html"
    title_key = "vignette"

    @staticmethod
    def vars_for_template(player):
        stamp_once(player.participant, "vignette_shown_at")
        return dict(
            paragraphs=texts.vignette(
                language_of(player.participant), player.programme, player.manager,
                player.partner, player.partner_profession,
            )
        )

    @staticmethod
    def before_next_page(player, timeout_happened):
        shown = read_var(player.participant, "vignette_shown_at")
        if shown is not None and player.field_maybe_none("seconds_vignette") is None:
            player.seconds_vignette = round(time.time() - shown, 1)


def scale_at(player, position: int) -> str:
    """The scale the student sees on the scale page at `position` (0-based)."""
    return texts.parse_scale_order(player.field_maybe_none("scale_order"))[position]


class _Scale(_AfterAssignment):
    """The scale page at one position: the scale the student's recorded `scale_order`
    puts there, its items in the student's recorded random order. Four pages at fixed
    positions (not one page per scale), so "step x of y" stays right in every order."""

    form_model = "player"
    intro_key = "outcomes_intro"
    stepper = True
    position = 0

    @classmethod
    def scale_for(cls, player) -> str:
        return scale_at(player, cls.position)

    @classmethod
    def title_key_for(cls, player):
        return cls.scale_for(player)

    @classmethod
    def _fields(cls, player):
        scale = cls.scale_for(player)
        return _orders(player).get(scale) or list(contract.SCALES[scale])


def _scale_page(position):
    # get_form_fields must be a plain function of the player (oTree calls it unbound).
    page = type(f"Scale{position + 1}", (_Scale,), dict(position=position))
    page.get_form_fields = staticmethod(lambda player: page._fields(player))
    return page


# One page per rated scale, by position (Scale1, Scale2, ...): which scale a page shows
# is the student's own `scale_order`.
SCALE_PAGES = tuple(_scale_page(i) for i in range(len(contract.RATED_SCALES)))


class Checks(_AfterAssignment):
    form_model = "player"
    form_fields = ["mc_manager", "mc_partner"]
    title_key = "checks"
    stepper = True

    @staticmethod
    def option_orders(player):
        orders = _orders(player)
        return {f: orders[f] for f in ("mc_manager", "mc_partner") if f in orders}

    @staticmethod
    def before_next_page(player, timeout_happened):
        # Correct = the option of the student's own arm; "appraisal" (described by neither
        # text) and "don't know" never are.
        for answer, (factor, correct) in contract.MANIPULATION_CHECKS.items():
            result = contract.check_correct(player.field_maybe_none(answer), player.field_maybe_none(factor))
            if result is not None:
                setattr(player, correct, result)


class LastQuestions(_AfterAssignment):
    """Realism of the text and what the programme has taught about trust-based
    management: after the checks, so neither primes the vignette or the ratings."""

    form_model = "player"
    form_fields = ["realism", "taught_tbm"]
    title_key = "last_questions"
    stepper = True

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.completed = True
        started = read_var(player.participant, "started_at")
        if started is not None:
            player.seconds_total = round(time.time() - started, 1)


class Debrief(_AfterAssignment):
    template_name = "collab_experiment/Debrief.html"
    title_key = "debrief"

    @staticmethod
    def vars_for_template(player):
        t = texts.load(language_of(player.participant))
        return dict(code_use=t["debrief"]["code_use"].format(**settings.STUDY[language_of(player.participant)]))


class Finished(SurveyPage):
    """The one neutral end page for everyone, whether they finished or declined.

    No progress counter: "step 2 of 12" would tell a neighbour who declined.
    """

    show_progress = False

    template_name = "collab_experiment/Finished.html"
    title_key = "finished"


page_sequence = [
    AboutYou, Motivation, Programme, Vignette,
    *SCALE_PAGES,
    Checks, LastQuestions, Debrief, Finished,
]


def custom_export(players):
    """The tidy table of the data contract, one row per participant who opened a link."""
    yield contract.EXPORT_COLUMNS
    for player in players:
        participant = player.participant
        if not participant.visited:
            continue  # a place nobody took: not a participant
        session = player.session
        fields = {name: player.field_maybe_none(name) for name in _PLAYER_EXPORT_FIELDS}
        row = tidy.tidy_row(
            fields,
            dict(
                code=participant.code,
                consented=read_var(participant, "consented"),
                language=read_var(participant, "language"),
                last_page=otree_glue.current_page_name(participant),
                timed_out_pages=read_var(participant, "timed_out_pages"),
                is_bot=otree_glue.is_bot(participant),
                consent_version=read_var(participant, "consent_version"),
            ),
            dict(
                code=session.code,
                is_demo=session.is_demo,
                site=session.config.get("site"),
                language=session.config.get("language"),
                seed=_seed(session),
            ),
        )
        yield [row[c] for c in contract.EXPORT_COLUMNS]


_PLAYER_EXPORT_FIELDS = [
    name for name in contract.EXPORT_COLUMNS
    if hasattr(Player, name)
]
