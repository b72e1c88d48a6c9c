"""The oTree edge shared by both apps: a page class that speaks the student's language.

Every participant-facing string comes from the instrument texts (`texts.py`), form
errors included: oTree's own messages are English-only, so any field error that is not
already one of ours is shown as the localised "please choose one of the answers".
A page answered by the admin's "advance slowest participants" stores no answers and
is recorded in `timed_out_pages` instead, so a forced page never looks answered.
"""

from __future__ import annotations

import time

from otree.api import Page

from analysis import contract

from . import texts
from .otree_glue import ForcedPageHook, PageTurnHook, form_field_names, page_progress, raw_vars

LIKERT_VALUES = [str(v) for v in contract.LIKERT]


def read_var(participant, key: str, default=None):
    """A participant field, read without writing it back.

    oTree's `participant.vars` (and `participant.<field>`) flags the whole pickled dict as
    changed on every access, so a plain read there costs an UPDATE of the participant row
    when the request commits: on every page a student opens, and for every participant of
    the session on every refresh of a dashboard or an export. Reads go through here;
    writes still go through `participant.vars`, which is what marks them to be saved.
    """
    return raw_vars(participant).get(key, default)


def stamp_once(participant, key: str) -> None:
    """Store the time now under `key`, unless a time is stored there already (a reload
    keeps the first one)."""
    if read_var(participant, key) is None:
        participant.vars[key] = time.time()


def language_of(participant) -> str:
    return texts.normalise_language(read_var(participant, "language"))


def question_view(language: str, field: str, value, error: str | None, order=None, labels=None) -> dict:
    """Everything a template needs to draw one question as a labelled radio group
    (`labels`: the answers' labels where a page shows its own, e.g. a site's programme names)."""
    labels = labels or texts.choice_labels(language, field)
    values = list(order) if order else list(labels)
    current = "" if value is None else str(value)
    return dict(
        name=field,
        legend=texts.question_label(language, field),
        likert=values == LIKERT_VALUES,
        error=error,
        options=[
            dict(value=v, label=labels[v], checked=(v == current), id=f"id_{field}_{v}")
            for v in values
        ],
    )


class SurveyPage(ForcedPageHook, PageTurnHook, Page):
    """A form page drawn from the instrument texts in the participant's language.

    Subclasses set `title_key` (a key of `pages` in the texts) and may set
    `intro_key`, `stepper` (one item at a time, the whole group sent at once),
    `option_orders(player)` for questions whose options are shown in a random order,
    `option_labels(player, language)` for answers shown with other labels than the
    instrument's, and `title_key_for(player)` for a page whose title depends on the student.
    """

    template_name = "global/Questions.html"
    title_key = ""
    intro_key = ""
    stepper = False
    show_progress = True

    @staticmethod
    def option_orders(player) -> dict:
        return {}

    @staticmethod
    def option_labels(player, language: str) -> dict:
        return {}

    @classmethod
    def title_key_for(cls, player) -> str:
        return cls.title_key

    def get_context_data(self, **context):
        context = super().get_context_data(**context)
        language = language_of(self.participant)
        t = texts.load(language)
        form = context.get("form")
        errors = dict(getattr(form, "errors", None) or {})
        ours = set(t["ui"].values())
        orders = type(self).option_orders(self.player) or {}
        own_labels = type(self).option_labels(self.player, language) or {}
        title_key = type(self).title_key_for(self.player)
        questions = []
        for field in form_field_names(self):
            if field not in t["questions"]:
                continue  # drawn by the page's own template (e.g. consent buttons)
            field_errors = errors.get(field) or []
            error = None
            if field_errors:
                error = field_errors[0] if field_errors[0] in ours else t["ui"]["error_choose"]
            value = form[field].data if form is not None and field in form else None
            questions.append(question_view(language, field, value, error, orders.get(field), own_labels.get(field)))
        non_field = getattr(form, "non_field_error", None)
        context.update(
            t=t,
            lang=language,
            questions=questions,
            has_errors=bool(errors) or bool(non_field),
            non_field_error=non_field if non_field in ours else None,
            page_title=t["pages"].get(title_key, "") if title_key else "",
            page_intro=t["pages"].get(self.intro_key, "") if self.intro_key else "",
            stepper=self.stepper and len(questions) > 1,
            step_text=t["ui"]["step"].format(
                step=page_progress(self.participant)[0], total=page_progress(self.participant)[1]
            ) if self.show_progress else "",
            item_of=t["ui"]["item_of"],
            socket_url=self.socket_url(),
        )
        return context

    def on_forced_submit(self):
        # oTree would store the empty form's defaults as answers; store nothing and
        # record the page as forced instead.
        record_forced_page(self.player, type(self).__name__)


def record_forced_page(player, page_name: str) -> None:
    """Append a page name to the participant's `timed_out_pages` (comma-separated)."""
    participant = player.participant
    pages = [p for p in (read_var(participant, "timed_out_pages") or "").split(",") if p]
    if page_name not in pages:
        pages.append(page_name)
    participant.vars["timed_out_pages"] = ",".join(pages)
    if hasattr(type(player), "timed_out_pages"):
        player.timed_out_pages = participant.vars["timed_out_pages"]
