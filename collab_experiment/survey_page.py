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

    participant: an oTree participant.
    key: a key of `participant.vars`; the `PARTICIPANT_FIELDS` of settings.py (e.g.
        `language`, `consented`) live there too.
    default: returned when `key` was never stored. A key stored as None gives None, not
        `default`.
    """
    return raw_vars(participant).get(key, default)


def stamp_once(participant, key: str) -> None:
    """Store the time now under `key`, unless a time is stored there already (a reload
    keeps the first one).

    participant: an oTree participant.
    key: the `participant.vars` key (e.g. `started_at`, `vignette_shown_at`); the time
        is stored in seconds since the epoch (`time.time()`), and only when the key is
        missing or None.
    """
    if read_var(participant, key) is None:
        participant.vars[key] = time.time()


def language_of(participant) -> str:
    """The language the participant reads in: one of `texts.LANGUAGES`.

    participant: an oTree participant; its `language` field, read without writing it
    back. English (the master) when the field is unset or not a language of the study.
    """
    return texts.normalise_language(read_var(participant, "language"))


def question_view(language: str, field: str, value, error: str | None, order=None, labels=None) -> dict:
    """Everything a template needs to draw one question as a labelled radio group.

    language: the participant's language (`language_of`).
    field: the question's form field, a key of `questions` in the instrument texts (its
        label is the group's legend).
    value: the answer now in the form (the student's earlier choice after a failed
        submit), or None; compared as a string with the options' values.
    error: the message to show with the question, already in `language`, or None.
    order: the answer values in the order shown (strings, e.g. the student's recorded
        random order); default the order of `labels`. Every value must have a label.
    labels: answer value -> label where a page shows its own (e.g. a site's programme
        names, `texts.programme_labels`); default the instrument's (`texts.choice_labels`).
    Returns a dict with `name`, `legend`, `likert` (True when the options are exactly
    the values 1–7 in order; the template then styles them as a scale), `error` and
    `options` (value, label, checked, id per answer, in the order shown).
    """
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
        """The questions whose answers this student sees in a random order.

        player: the page's player.
        Returns field -> the answer values (strings) in the order shown; a field not in
        it keeps the instrument's order. Empty here: a page overrides it.
        """
        return {}

    @staticmethod
    def option_labels(player, language: str) -> dict:
        """Answers this student sees with other labels than the instrument's.

        player: the page's player.
        language: the participant's language, the labels' language.
        Returns field -> {answer value: label}; a field not in it keeps the instrument's
        labels. Empty here: a page overrides it (the programme page shows the site's
        own programme names).
        """
        return {}

    @classmethod
    def title_key_for(cls, player) -> str:
        """The key under `pages` in the texts of this student's page title.

        player: the page's player.
        Returns the class's `title_key` here (empty: no title); a page whose title
        depends on the student (a scale page at a position) overrides it.
        """
        return cls.title_key

    def get_context_data(self, **context):
        """oTree's template context plus the page drawn in the participant's language.

        context: what oTree passes on (its `form` among it).
        Adds `t` (all texts of the language), `lang`, `questions` (one `question_view` per
        form field that is a question of the texts, in `form_fields` order; oTree's
        English field errors replaced by the localised "please choose one"),
        `has_errors`, `non_field_error` (only when it is one of the texts' own),
        `page_title`, `page_intro`, `stepper`, `step_text` ("step x of y", empty when
        `show_progress` is off), `item_of` and `socket_url`.
        """
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
        """Called instead of storing the form when the admin forced the page on
        ("advance slowest participants"): records the page in `timed_out_pages`."""
        # oTree would store the empty form's defaults as answers; store nothing and
        # record the page as forced instead.
        record_forced_page(self.player, type(self).__name__)


def record_forced_page(player, page_name: str) -> None:
    """Append a page name to the participant's `timed_out_pages` (comma-separated).

    player: the player whose page was forced on; its `participant` gets the list, and
        the player's own `timed_out_pages` field a copy where its model has one.
    page_name: the page class's name (e.g. `Vignette`); a page already listed is not
        added again.
    """
    participant = player.participant
    pages = [p for p in (read_var(participant, "timed_out_pages") or "").split(",") if p]
    if page_name not in pages:
        pages.append(page_name)
    participant.vars["timed_out_pages"] = ",".join(pages)
    if hasattr(type(player), "timed_out_pages"):
        player.timed_out_pages = participant.vars["timed_out_pages"]
