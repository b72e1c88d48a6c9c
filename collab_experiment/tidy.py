"""One tidy row per participant, in the data contract's column order (`analysis.contract`;
codes and texts side by side in docs/instrument.md).

Plain Python, no oTree: the app's custom export calls `tidy_row` with plain dicts, and
the tests check the contract without a server.
"""

from __future__ import annotations

import json

from analysis import contract

EXPORT_COLUMNS = list(contract.EXPORT_COLUMNS)


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
        return contract.decliner_row(row)
    for column in EXPORT_COLUMNS:
        if column in player and row.get(column) is None:
            row[column] = player[column]
    row["site"] = player.get("site") or session.get("site") or None
    row["language"] = player.get("language") or participant.get("language")
    row["consent_version"] = participant.get("consent_version")
    # the seed of a seeded session (demos), recorded on the player at assignment; blank
    # when the session drew from the cryptographic source
    row["seed"] = player.get("seed") or session.get("seed") or ""
    for scale, items in contract.SCALES.items():
        row[scale] = contract.scale_score(player.get(i) for i in items)
    return row


def item_order_json(orders: dict) -> str:
    """The presentation orders as stored in the player's `item_order` field: compact JSON
    (no spaces), keys in the dict's order.

    Args:
        orders: scale or check field -> names in the order shown (`texts.draw_orders`).
    """
    return json.dumps(orders, separators=(",", ":"))
