"""The data contract of DESIGN.md in one place: tidy columns, codes, scales, effects schema.

Every other module (loader, codebook, simulation, estimators) reads its vocabulary
from here, so a new code or column is added once.
"""
from __future__ import annotations

PROGRAMMES = ("nursing", "teacher", "management", "public_admin", "other")
#: Programmes with their own treatment effects; ``other`` is reported descriptively.
EFFECT_PROGRAMMES = ("nursing", "teacher", "management", "public_admin")

SCALES: dict[str, tuple[str, ...]] = {
    "psm": ("psm_1", "psm_2", "psm_3"),
    "attractiveness": ("attract_1", "attract_2", "attract_3", "attract_4"),
    "trust_manager": ("trust_1", "trust_2", "trust_3", "trust_4"),
    "collaboration": ("collab_1", "collab_2", "collab_3", "collab_4", "collab_5"),
    "autonomy": ("autonomy_1", "autonomy_2", "autonomy_3"),
}
OUTCOME_SCALES = ("attractiveness", "trust_manager", "collaboration", "autonomy")
OUTCOME_ITEMS = tuple(i for s in OUTCOME_SCALES for i in SCALES[s])

#: Factor name -> (treated code, control code); the effect is treated - control.
FACTORS: dict[str, tuple[str, str]] = {
    "manager": ("trust", "control"),
    "partner": ("other", "same"),
}
INTERACTION = "manager:partner"

# Columns of the tidy participant table, in order (DESIGN.md "Data contract").
TIDY_COLUMNS: tuple[str, ...] = (
    "participant_code", "session_code", "site", "language", "instrument_version",
    "consented", "assigned", "completed", "withdrawn", "last_page", "timed_out_pages",
    "programme", "manager", "partner", "partner_profession",
    "stratum", "block", "block_position", "assignment_probability", "assigned_at",
    "assignment_version",
    "year_of_study", "age_band", "gender", "municipal_experience",
    "psm_1", "psm_2", "psm_3", "psm", "attention_pass",
    *OUTCOME_ITEMS, *OUTCOME_SCALES,
    "mc_manager", "mc_partner", "mc_manager_correct", "mc_partner_correct",
    "seconds_vignette", "seconds_total",
)
#: Extra columns at the end of the project's custom export (dropped from tidy data).
CUSTOM_EXTRAS = ("withdrawal_code", "is_demo", "is_bot", "campus", "consent_version",
                 "attention", "item_order", "block_size")

BOOL_COLUMNS = ("consented", "assigned", "completed", "withdrawn", "attention_pass",
                "mc_manager_correct", "mc_partner_correct")
INT_COLUMNS = ("block", "block_position", "year_of_study", "psm_1", "psm_2", "psm_3",
               *OUTCOME_ITEMS)
FLOAT_COLUMNS = ("assignment_probability", "psm", *OUTCOME_SCALES,
                 "seconds_vignette", "seconds_total")
#: Categorical columns and their allowed codes, with English value labels.
CATEGORIES: dict[str, dict[str, str]] = {
    "site": {"oslo": "Oslo", "aarhus": "Aarhus", "other": "Other"},
    "language": {"nb": "Norwegian (bokmål)", "da": "Danish", "en": "English"},
    "programme": {"nursing": "Nursing", "teacher": "Teacher education",
                  "management": "Management", "public_admin": "Public administration",
                  "other": "Other"},
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
    "mc_manager": {"trust": "Conversations and own judgement (trust)",
                   "control": "Detailed targets and monitoring (control)",
                   "dont_know": "I don't remember"},
    "mc_partner": {"same": "The same as mine", "other": "Different from mine",
                   "dont_know": "I don't remember"},
}
YEAR_LABELS = {1: "1", 2: "2", 3: "3", 4: "4 or later"}
AGREE7 = {1: "Strongly disagree", 2: "Disagree", 3: "Slightly disagree",
          4: "Neither agree nor disagree", 5: "Slightly agree", 6: "Agree",
          7: "Strongly agree"}

EFFECT_COLUMNS = ("outcome", "factor", "programme", "estimator", "estimate", "std_error",
                  "df", "ci_low", "ci_high", "p_value", "p_adjusted", "adjustment",
                  "n_treated", "n_control", "hedges_g", "g_ci_low", "g_ci_high", "note")
