"""The study's vocabulary, in one place: programmes, factors, scales and their items,
the tidy columns, the codes and their labels, the scoring rule, the attention pass value
and what a participant who declined keeps.

Both halves read it: the oTree apps (``from analysis import contract``) and the analysis.
It imports neither oTree nor pandas, so the app's request path stays light. A new scale,
code or column is added here once; the instrument files (``collab_experiment/instrument``)
then give it words in each language, and ``tests/test_vocabulary.py`` fails if the app's
fields, the instrument files and this module ever disagree.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

INSTRUMENT_VERSION = "2026.2"

# --- Design -----------------------------------------------------------------------------

PROGRAMMES = ("nursing", "teacher", "management", "public_admin", "other")
#: Programmes with their own treatment effects; ``other`` is reported descriptively.
EFFECT_PROGRAMMES = ("nursing", "teacher", "management", "public_admin")

#: Factor name -> (treated code, control code); the effect is treated - control.
FACTORS: dict[str, tuple[str, str]] = {
    "manager": ("trust", "control"),
    "partner": ("other", "same"),
}
INTERACTION = "manager:partner"
#: The four cells of the 2x2 in their canonical order (manager, partner): a permuted
#: block is a permutation of these, so the order is part of a seeded session's draw.
CELLS = (("trust", "same"), ("trust", "other"), ("control", "same"), ("control", "other"))

#: The student's own profession (the partner's, when the partner is `same`).
OWN_PROFESSION = {"nursing": "nurse", "teacher": "teacher", "management": "management",
                  "public_admin": "public_admin", "other": "other"}
#: An `other` partner: fixed where the programme has one natural counterpart, otherwise
#: a nurse or a teacher, balanced within each block.
OTHER_PROFESSION = {"nursing": ("teacher",), "teacher": ("nurse",)}
OTHER_PROFESSION_DEFAULT = ("nurse", "teacher")

# --- Answers ----------------------------------------------------------------------------

LANGUAGES = ("nb", "da", "en")
LIKERT = tuple(range(1, 8))
DONT_KNOW = "dont_know"
#: The attention item stands among the motivation items (second-to-last, fixed order);
#: its instruction asks for "Slightly disagree".
ATTENTION_ITEM = "attention"
ATTENTION_PASS_VALUE = 3
MOTIVATION_ITEMS = ("psm_1", "psm_2", ATTENTION_ITEM, "psm_3")

# --- Scales -----------------------------------------------------------------------------

#: Every multi-item scale, with its items in their canonical order.
SCALES: dict[str, tuple[str, ...]] = {
    "psm": ("psm_1", "psm_2", "psm_3"),
    "attractiveness": ("attract_1", "attract_2", "attract_3", "attract_4"),
    "trust_manager": ("trust_1", "trust_2", "trust_3", "trust_4"),
    "collaboration": ("collab_1", "collab_2", "collab_3", "collab_4", "collab_5"),
    "autonomy": ("autonomy_1", "autonomy_2", "autonomy_3"),
}
#: The outcomes of the hypotheses (H1: attractiveness, trust_manager; H2: collaboration).
OUTCOME_SCALES = ("attractiveness", "trust_manager", "collaboration")
#: Rated after the vignette like the outcomes, but a manipulation check of the manager
#: factor since instrument 2026.2 (the trust text describes autonomy; it cannot be H1).
CHECK_SCALES = ("autonomy",)
#: The factor each check scale checks (the manager effect on perceived autonomy).
CHECK_SCALE_FACTORS = {"autonomy": "manager"}
#: The scale pages after the vignette, shown in a random order per student (`scale_order`).
RATED_SCALES = (*OUTCOME_SCALES, *CHECK_SCALES)
OUTCOME_ITEMS = tuple(i for s in OUTCOME_SCALES for i in SCALES[s])
RATED_ITEMS = tuple(i for s in RATED_SCALES for i in SCALES[s])
LIKERT_ITEMS = (*SCALES["psm"], ATTENTION_ITEM, *RATED_ITEMS, "realism")
#: The analysis estimates effects on these; the plan says which are confirmatory.
EFFECT_OUTCOMES = RATED_SCALES


def min_answered(n_items: int) -> int:
    """Items that must be answered for a scale score: at least half, rounded up.

    Parameters
    ----------
    n_items : int
        Number of items in the scale.
    """
    return math.ceil(n_items / 2)


def scale_score(values: Iterable[float | None]) -> float | None:
    """The scoring rule: the mean of the answered items if at least half were answered.

    Parameters
    ----------
    values : iterable of float or None
        The scale's item answers; None or NaN for unanswered.

    >>> scale_score([1, 2, 6]), scale_score([1, None, 6, None]), scale_score([1, None, None])
    (3.0, 3.5, None)
    """
    values = list(values)
    answered = [float(v) for v in values if v is not None and v == v]
    if not answered or len(answered) < min_answered(len(values)):
        return None
    return math.fsum(answered) / len(answered)


# --- The tidy participant table ---------------------------------------------------------

IDENTITY = ("participant_code", "session_code", "site", "language", "instrument_version")
FLOW = ("consented", "assigned", "completed", "withdrawn", "last_page", "timed_out_pages")
AUDIT = ("stratum", "block", "block_position", "assignment_probability", "assigned_at",
         "assignment_version")
DESIGN = ("programme", "manager", "partner", "partner_profession", *AUDIT)
BACKGROUND = ("programme_level", "year_of_study", "age_band", "gender",
              "municipal_experience", *SCALES["psm"], "psm", "attention_pass")
OUTCOMES = (*OUTCOME_ITEMS, *OUTCOME_SCALES)
CHECKS = ("mc_manager", "mc_partner", "mc_manager_correct", "mc_partner_correct",
          *SCALES["autonomy"], "autonomy", "realism")
AFTER_CHECKS = ("taught_tbm",)
#: `scale_order`: the scales as shown, comma-separated; `item_order`: JSON, the items of
#: each scale and the options of each check as shown.
PRESENTATION = ("scale_order", "item_order")
TIMING = ("seconds_vignette", "seconds_total")
TIDY_COLUMNS: tuple[str, ...] = (*IDENTITY, *FLOW, *DESIGN, *BACKGROUND, *OUTCOMES, *CHECKS,
                                 *AFTER_CHECKS, *PRESENTATION, *TIMING)
#: Extra columns at the end of the project's custom export (dropped from tidy data):
#: what the analysis needs to clean and audit.
CUSTOM_EXTRAS = ("withdrawal_code", "is_demo", "is_bot", "campus", "consent_version",
                 ATTENTION_ITEM, "block_size", "seed")
EXPORT_COLUMNS = (*TIDY_COLUMNS, *CUSTOM_EXTRAS)
#: Columns added by instrument 2026.2: empty (and noted) when older exports are read.
ADDED_IN = {"2026.2": ("programme_level", "realism", "taught_tbm", "scale_order", "seed")}

#: A participant who did not consent (or withdrew) keeps these and nothing else (the
#: demo and bot flags let the analysis drop a dry run's decliners too).
DECLINER_KEEPS = ("participant_code", "session_code", *FLOW, "is_demo", "is_bot")


def decliner_row(row: dict) -> dict:
    """The decliner rule: blank every column but the flow columns (a copy).

    Parameters
    ----------
    row : dict
        A tidy row (column -> value).
    """
    return {k: (v if k in DECLINER_KEEPS else None) for k, v in row.items()}


#: Variable labels of the tidy columns (codebook, Stata); items are labelled from their scale.
COLUMN_LABELS: dict[str, str] = {
    "participant_code": "oTree participant code", "session_code": "oTree session code (class)",
    "site": "Site", "language": "Language of the survey", "instrument_version": "Instrument version",
    "consented": "Consented to take part", "assigned": "Assigned to an arm",
    "completed": "Completed the survey", "withdrawn": "Withdrew with the debrief code",
    "last_page": "Last page reached", "timed_out_pages": "Pages advanced by the admin (timeout)",
    "programme": "Study programme (stratum)", "manager": "Manager arm (factor 1)",
    "partner": "Partner arm (factor 2)", "partner_profession": "Partner's profession in vignette",
    "stratum": "Randomisation stratum (programme)", "block": "Permuted block within stratum",
    "block_position": "Position within block", "assignment_probability": "Probability of the cell",
    "assigned_at": "Time of assignment (UTC)", "assignment_version": "Assignment algorithm version",
    "programme_level": "Level of the programme", "year_of_study": "Year of study", "age_band": "Age band", "gender": "Gender (optional)",
    "municipal_experience": "Paid work in a municipality",
    "psm": "Public service motivation (mean of psm_1-3)",
    "attention_pass": f"Passed the attention check (answered {ATTENTION_PASS_VALUE})",
    "attractiveness": "Workplace attractiveness (mean of attract_1-4)",
    "trust_manager": "Anticipated trust in the manager (mean of trust_1-4)",
    "collaboration": "Willingness to collaborate (mean of collab_1-5)",
    "autonomy": "Perceived autonomy, a check of the manager factor (mean of autonomy_1-3)",
    "realism": "The description seemed realistic (1-7)",
    "taught_tbm": "How much the programme has taught about trust-based management",
    "scale_order": "Order in which the rated scales were shown",
    "item_order": "Order of items within each scale and of check options (JSON)",
    "mc_manager": "Manipulation check: manager", "mc_partner": "Manipulation check: partner",
    "mc_manager_correct": "Manager check answered correctly",
    "mc_partner_correct": "Partner check answered correctly",
    "seconds_vignette": "Seconds on the vignette page", "seconds_total": "Seconds in the survey",
}
BOOL_COLUMNS = ("consented", "assigned", "completed", "withdrawn", "attention_pass",
                "mc_manager_correct", "mc_partner_correct")
INT_COLUMNS = ("block", "block_position", "year_of_study", *SCALES["psm"],
               *OUTCOME_ITEMS, *SCALES["autonomy"], "realism")
FLOAT_COLUMNS = ("assignment_probability", "psm", *OUTCOME_SCALES, "autonomy",
                 "seconds_vignette", "seconds_total")

#: Categorical columns: their codes (the stored values) with English value labels for
#: the codebook and Stata. Participant-facing labels are in the instrument files.
CATEGORIES: dict[str, dict[str, str]] = {
    "site": {"oslo": "Oslo", "aarhus": "Aarhus", "other": "Other"},
    "language": {"nb": "Norwegian (bokmål)", "da": "Danish", "en": "English"},
    "programme": {"nursing": "Nursing", "teacher": "Teacher education",
                  "management": "Management", "public_admin": "Public administration",
                  "other": "Other"},
    "programme_level": {"bachelor": "Bachelor", "master": "Master", "other": "Other"},
    "manager": {"trust": "Trust-based management", "control": "Control-based management"},
    "partner": {"same": "Same profession", "other": "Other profession"},
    "partner_profession": {"nurse": "Nurse", "teacher": "Teacher",
                           "management": "Management adviser",
                           "public_admin": "Caseworker", "other": "Municipal employee"},
    "age_band": {"le21": "21 or younger", "22_24": "22-24", "25_29": "25-29",
                 "30_39": "30-39", "ge40": "40 or older",
                 # Only in tidy data coarsened for privacy (analysis.privacy, --coarsen):
                 "le24": "24 or younger (coarsened)", "ge25": "25 or older (coarsened)"},
    "gender": {"woman": "Woman", "man": "Man", "other": "Other",
               "no_answer": "Prefer not to say"},
    "municipal_experience": {"none": "None", "lt6m": "Under 6 months",
                             "6_24m": "6-24 months", "gt2y": "Over 2 years"},
    "mc_manager": {"trust": "Conversations based on the employees' own assessment (trust)",
                   "control": "Reviews of indicators against detailed targets (control)",
                   "appraisal": "An annual appraisal interview (in neither text)",
                   DONT_KNOW: "I don't remember"},
    "mc_partner": {"same": "The same education (same)", "other": "A different education (other)",
                   DONT_KNOW: "I don't remember"},
    "taught_tbm": {"none": "Nothing", "little": "A little", "some": "Some", "much": "A lot",
                   DONT_KNOW: "Don't know"},
}
#: Codes that only the analysis writes (tidy data coarsened for privacy), never an answer.
COARSENED_CODES = {"age_band": ("le24", "ge25")}
#: The codes a student can choose, per question (campus is stored in the raw export only).
ANSWER_CODES: dict[str, tuple[str, ...]] = {
    **{col: tuple(c for c in codes if c not in COARSENED_CODES.get(col, ()))
       for col, codes in CATEGORIES.items()},
    "campus": ("oslo", "aarhus", "other"),
    "year_of_study": (1, 2, 3, 4),
}
YEAR_LABELS = {1: "1", 2: "2", 3: "3", 4: "4 or later"}
AGREE7 = {1: "Strongly disagree", 2: "Disagree", 3: "Slightly disagree",
          4: "Neither agree nor disagree", 5: "Slightly agree", 6: "Agree",
          7: "Strongly agree"}
#: The manipulation checks: answer column -> (factor it checks, its `_correct` column).
MANIPULATION_CHECKS = {"mc_manager": ("manager", "mc_manager_correct"),
                       "mc_partner": ("partner", "mc_partner_correct")}


def check_correct(answer: str | None, assigned: str | None) -> bool | None:
    """A manipulation check is passed when the answer names the student's own arm.

    Parameters
    ----------
    answer : str or None
        The code the student chose (None if unanswered).
    assigned : str or None
        The code of the student's assigned arm (None if not assigned).
    """
    if answer is None or assigned is None:
        return None
    return answer == assigned


# --- The effects table ------------------------------------------------------------------

EFFECT_COLUMNS = ("outcome", "factor", "programme", "estimator", "estimate", "std_error",
                  "df", "ci_low", "ci_high", "p_value", "p_adjusted", "adjustment",
                  "n_treated", "n_control", "hedges_g", "g_ci_low", "g_ci_high", "note")
