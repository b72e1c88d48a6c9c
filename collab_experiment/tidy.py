"""One tidy row per participant, in the data contract's column order (docs/instrument.md).

Plain Python, no oTree: the app's custom export calls `tidy_row` with plain dicts, and
the tests check the contract without a server.
"""

from __future__ import annotations

import json
import statistics

from . import texts

IDENTITY = ["participant_code", "session_code", "site", "language", "instrument_version"]
FLOW = ["consented", "assigned", "completed", "withdrawn", "last_page", "timed_out_pages"]
AUDIT = ["stratum", "block", "block_position", "assignment_probability", "assigned_at", "assignment_version"]
DESIGN = ["programme", "manager", "partner", "partner_profession", *AUDIT]
BACKGROUND = [
    "year_of_study", "age_band", "gender", "municipal_experience",
    "psm_1", "psm_2", "psm_3", "psm", "attention_pass",
]
OUTCOME_ITEMS = [item for items in texts.OUTCOME_SCALES.values() for item in items]
OUTCOMES = [*OUTCOME_ITEMS, *texts.OUTCOME_SCALES]
CHECKS = ["mc_manager", "mc_partner", "mc_manager_correct", "mc_partner_correct"]
TIMING = ["seconds_vignette", "seconds_total"]
CONTRACT_COLUMNS = [*IDENTITY, *FLOW, *DESIGN, *BACKGROUND, *OUTCOMES, *CHECKS, *TIMING]
# After the contract: what the analysis needs to clean and audit, dropped from tidy.csv.
EXTRA_COLUMNS = ["withdrawal_code", "is_demo", "is_bot", "campus", "consent_version", "attention", "item_order", "block_size"]
# Instrument 2026.2's columns: the level of the programme, realism and teaching (after the
# checks), the order of the four scale pages, and the session's seed (blank when the
# session drew from the cryptographic source).
INSTRUMENT_2026_2 = ["programme_level", "realism", "taught_tbm", "scale_order", "seed"]
EXTRA_COLUMNS += INSTRUMENT_2026_2
EXPORT_COLUMNS = [*CONTRACT_COLUMNS, *EXTRA_COLUMNS]

SCALES = {**texts.OUTCOME_SCALES, "psm": ("psm_1", "psm_2", "psm_3")}


def scale_score(values) -> float | None:
    """Mean of the answered items, if at least half were answered (the analysis's rule)."""
    answered = [v for v in values if v is not None]
    if not answered or 2 * len(answered) < len(values):
        return None
    return statistics.fmean(answered)


def tidy_row(player: dict, participant: dict, session: dict) -> dict:
    """Combine a collab_experiment player's fields with participant and session facts.

    `participant`: code, consented, language, last_page, timed_out_pages, is_bot,
    consent_version; `session`: code, is_demo, site (config), language (config),
    seed (config; None for cryptographic randomness).
    A participant who did not consent keeps nothing but the flow columns.
    """
    consented = participant.get("consented")
    row = dict.fromkeys(EXPORT_COLUMNS)
    row.update(
        participant_code=participant["code"],
        session_code=session["code"],
        consented=consented,
        assigned=bool(player.get("manager")),
        completed=bool(player.get("completed")),
        withdrawn=bool(player.get("withdrawn")),
        last_page=participant.get("last_page"),
        timed_out_pages=participant.get("timed_out_pages") or "",
        is_demo=int(bool(session.get("is_demo"))),
        is_bot=int(bool(participant.get("is_bot"))),
    )
    if not consented or row["withdrawn"]:
        return row
    for column in EXPORT_COLUMNS:
        if column in player and row.get(column) is None:
            row[column] = player[column]
    row["site"] = player.get("site") or session.get("site") or None
    row["language"] = player.get("language") or participant.get("language")
    row["consent_version"] = participant.get("consent_version")
    row["seed"] = session.get("seed") or ""
    for scale, items in SCALES.items():
        row[scale] = scale_score([player.get(i) for i in items])
    return row


def item_order_json(orders: dict) -> str:
    return json.dumps(orders, separators=(",", ":"))
