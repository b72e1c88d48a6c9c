"""Stratified permuted-block assignment to the 2×2 design (manager × partner).

Plain Python, no oTree: the experiment calls it once per student, and the analysis
re-runs it for design diagnosis. The state is a JSON-friendly dict kept in the oTree
session, so assignment survives a server restart and needs no extra table.

Guarantee (block size 4): within every stratum, at every moment, the four cell counts
differ by at most one, because every completed block holds each cell exactly once.
Abandoned slots are never refilled (intention to treat).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import random
import secrets

from analysis import contract

ASSIGNMENT_VERSION = "stratified-permuted-blocks/1"

# The four cells in a fixed canonical order; blocks are permutations of these.
CELLS = contract.CELLS
PROGRAMMES = contract.PROGRAMMES
BLOCK_SIZES = (4, 8)


@dataclasses.dataclass(frozen=True)
class Assignment:
    """One student's assignment with its audit trail (the exported fields)."""

    manager: str
    partner: str
    partner_profession: str
    stratum: str
    block: int  # 1-based block number within the stratum
    block_position: int  # 1-based position within the block
    block_size: int
    assignment_probability: float
    assigned_at: str  # UTC, ISO 8601
    assignment_version: str = ASSIGNMENT_VERSION


def new_state() -> dict:
    """An empty assignment state: no stratum has started a block yet."""
    return {"strata": {}}


def stream_key(seed: str | int | None, session_code: str) -> str | None:
    """The key of a seeded session's random streams: the seed *and* the session code, so
    two sessions given the same seed (say, two classes both set to "demo") do not assign
    identically, while the same session re-created from its code and seed does. None
    (cryptographic randomness) without a seed.

    Parameters
    ----------
    session_code : str
        The oTree session code.
    """
    if seed is None or str(seed).strip() == "":
        return None
    return f"{str(seed).strip()}@{session_code}"


def _rng(seed: str | int | None, *parts) -> random.Random:
    """Cryptographic randomness, or a reproducible stream derived from the seed.

    With a seed, each block draws from its own stream (seed, stratum, block), so the
    sequence does not depend on the order in which strata happen to fill.
    """
    if seed is None or seed == "":
        return secrets.SystemRandom()
    key = ":".join(str(p) for p in (seed, *parts)).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def presentation_rng(seed: str | int | None, session_code: str, id_in_session: int) -> random.Random:
    """One student's stream for presentation orders (scales, items, check options):
    cryptographic, or reproducible from the seed and the session code.

    Parameters
    ----------
    session_code : str
        The oTree session code.
    id_in_session : int
        The student's number in the session.
    """
    return _rng(stream_key(seed, session_code), "order", id_in_session)


def _new_block(block_size: int, rng: random.Random) -> list[int]:
    cells = list(range(len(CELLS))) * (block_size // len(CELLS))
    rng.shuffle(cells)
    return cells


def _partner_draws(programme: str, block_size: int, rng: random.Random) -> list[str]:
    """Professions for the block's `other`-partner slots, in slot order.

    Where two professions are possible, each occurs equally often within the block
    (random order), so both stay balanced across arms as the class fills up.
    """
    n_other = block_size // 2
    choices = contract.OTHER_PROFESSION.get(programme, contract.OTHER_PROFESSION_DEFAULT)
    draws = [choices[i % len(choices)] for i in range(n_other)]
    rng.shuffle(draws)
    return draws


def assign(
    state: dict,
    programme: str,
    *,
    block_size: int = 4,
    seed: str | int | None = None,
    session_code: str = "",
    now: datetime.datetime | None = None,
) -> tuple[dict, Assignment]:
    """Assign one student of `programme`; return the new state and the assignment.

    `seed` (blank: cryptographic randomness) makes the blocks reproducible together
    with `session_code` (see `stream_key`). The input state is not modified, so a caller
    that fails before saving keeps the old state and nothing is half-assigned.

    Parameters
    ----------
    block_size : int
        Cells per block: 4 or 8.
    now : datetime, optional
        The assignment time recorded; default now (UTC).
    """
    if programme not in PROGRAMMES:
        raise ValueError(f"unknown programme {programme!r}; expected one of {PROGRAMMES}")
    if block_size not in BLOCK_SIZES:
        raise ValueError(f"block_size must be one of {BLOCK_SIZES}, not {block_size!r}")

    strata = {k: dict(v) for k, v in state.get("strata", {}).items()}
    stratum = strata.get(programme)
    if stratum is None or stratum["next"] >= len(stratum["sequence"]):
        block = 1 if stratum is None else stratum["block"] + 1
        rng = _rng(stream_key(seed, session_code), programme, block)
        stratum = {
            "block": block,
            "block_size": block_size,
            "sequence": _new_block(block_size, rng),
            "partner_professions": _partner_draws(programme, block_size, rng),
            "next": 0,
            "other_used": 0,
        }
    position = stratum["next"]
    manager, partner = CELLS[stratum["sequence"][position]]
    if partner == "same":
        profession = contract.OWN_PROFESSION[programme]
    else:
        profession = stratum["partner_professions"][stratum["other_used"]]
        stratum["other_used"] += 1
    stratum["next"] = position + 1
    strata[programme] = stratum

    when = now or datetime.datetime.now(datetime.timezone.utc)
    assignment = Assignment(
        manager=manager,
        partner=partner,
        partner_profession=profession,
        stratum=programme,
        block=stratum["block"],
        block_position=position + 1,
        block_size=stratum["block_size"],
        assignment_probability=1 / len(CELLS),
        assigned_at=when.astimezone(datetime.timezone.utc).isoformat(timespec="seconds"),
    )
    return {**state, "strata": strata}, assignment


def cell_counts(assignments) -> dict[str, dict[tuple[str, str], int]]:
    """Counts per stratum and cell, for checks and dashboards.

    Parameters
    ----------
    assignments : iterable of Assignment
        Assignments made (from :func:`assign`).
    """
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for a in assignments:
        per = counts.setdefault(a.stratum, {c: 0 for c in CELLS})
        per[(a.manager, a.partner)] += 1
    return counts


def max_imbalance(counts: dict[tuple[str, str], int]) -> int:
    """The largest difference between two cells' counts in one stratum."""
    values = [counts.get(c, 0) for c in CELLS]
    return max(values) - min(values)
