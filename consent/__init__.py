"""Layered consent: a short screen, the full letter one tap away, two equal buttons.

"No thanks" leads to the same neutral finish page everyone ends on; a declined
participant has nothing stored but `consented = False`.
"""


from otree.api import BaseConstants, BaseGroup, BasePlayer, BaseSubsession, models

import settings
from collab_experiment import texts
from collab_experiment.otree_glue import redirect_to_current_page, submitted_form_data
from collab_experiment.survey_page import SurveyPage, language_of, stamp_once

doc = __doc__


class C(BaseConstants):
    NAME_IN_URL = "consent"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    consented = models.BooleanField(choices=[[True, "agree"], [False, "decline"]])
    age_confirmed = models.BooleanField(blank=True, choices=[[True, "18+"]])
    consent_version = models.StringField(blank=True)
    language = models.StringField(blank=True)


def creating_session(subsession: Subsession):
    language = texts.normalise_language(subsession.session.config.get("language"))
    for p in subsession.get_players():
        p.participant.vars["language"] = language


class Consent(SurveyPage):
    template_name = "consent/Consent.html"
    form_model = "player"
    form_fields = ["consented", "age_confirmed"]

    def get_context_data(self, **context):
        context = super().get_context_data(**context)
        errors = dict(getattr(context.get("form"), "errors", None) or {})
        ui = context["t"]["ui"]
        context["age_error"] = ui["error_age"] if "age_confirmed" in errors else None
        if "consented" in errors:
            context["non_field_error"] = ui["error_decision"]
        return context

    @staticmethod
    def vars_for_template(player: Player):
        participant = player.participant
        stamp_once(participant, "started_at")
        language = language_of(participant)
        t = texts.load(language)
        consent = {k: v.format(**settings.STUDY[language]) for k, v in t["consent"].items()}
        return dict(
            consent=consent,
            languages=[
                dict(code=code, name=texts.load(code)["meta"]["name"], current=code == language_of(participant))
                for code in texts.LANGUAGES
            ],
        )

    @staticmethod
    def error_message(player: Player, values):
        if values["consented"] and not values["age_confirmed"]:
            return dict(age_confirmed=texts.load(language_of(player.participant))["ui"]["error_age"])

    @staticmethod
    def before_next_page(player: Player, timeout_happened):
        participant = player.participant
        participant.vars["consented"] = bool(player.consented)
        if player.consented:
            player.consent_version = texts.load(language_of(participant))["meta"]["consent_version"]
            player.language = language_of(participant)
            participant.vars["consent_version"] = player.consent_version
        else:
            player.age_confirmed = None

    def post(self):
        # The language buttons submit the form with `switch_language` and nothing else:
        # change the language and show the same page again, storing no answer.
        data = submitted_form_data(self)
        switch = data.get("switch_language") if data else None
        if switch:
            self.participant.vars["language"] = texts.normalise_language(
                switch, language_of(self.participant)
            )
            return redirect_to_current_page(self)
        return super().post()


page_sequence = [Consent]
