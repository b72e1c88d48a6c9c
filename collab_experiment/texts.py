"""The instrument's participant-facing texts: one JSON file per language, same keys.

Plain Python, no oTree, so the analysis (codebook) and the tests read the very texts
students see. English is the master; a file whose `meta.reviewed` is false has not yet
been checked by a native speaker (shown to researchers in the admin, never to students).
"""

from __future__ import annotations

import functools
import json
import pathlib

from analysis import contract
from analysis.nested import flatten

INSTRUMENT_DIR = pathlib.Path(__file__).resolve().parent / "instrument"
LANGUAGES = contract.LANGUAGES
MASTER = "en"


@functools.cache
def load(language: str) -> dict:
    """The texts of one language, checked to have exactly the master's keys."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {LANGUAGES}")
    texts = json.loads((INSTRUMENT_DIR / f"{language}.json").read_text(encoding="utf-8"))
    if language != MASTER:
        missing, extra = key_differences(texts, load(MASTER))
        if missing or extra:
            raise ValueError(
                f"instrument/{language}.json does not match en.json: "
                f"missing {sorted(missing)}, extra {sorted(extra)}"
            )
    return texts


def key_differences(texts: dict, master: dict) -> tuple[set[str], set[str]]:
    """Keys the master has and `texts` lacks, and keys only `texts` has."""
    ours, theirs = set(flatten(texts)), set(flatten(master))
    return theirs - ours, ours - theirs


def normalise_language(code: str | None, default: str = MASTER) -> str:
    """A language code as the instrument knows it: one of `LANGUAGES`, or `default`.

    Args:
        code: a code as stored or sent (e.g. " NB"); case and surrounding spaces do not
            matter. None or empty gives `default`, as does any code the study does not
            have (a region like "nb-NO" included).
        default: the language to fall back to (English, the master).
    """
    code = (code or "").strip().lower()
    return code if code in LANGUAGES else default


def choice_labels(language: str, field: str) -> dict[str, str]:
    """Answer value → label for a question, Likert scales included.

    Args:
        language: one of `LANGUAGES`.
        field: a key of `questions` in the texts; its own `choices`, or else the labels
            of its `scale` (e.g. "1" → "Strongly disagree" … "7").

    Returns a new dict (safe to change), in the instrument's order. Raises KeyError for
    a field that is not a question.
    """
    texts = load(language)
    question = texts["questions"][field]
    if "choices" in question:
        return dict(question["choices"])
    return dict(texts["scales"][question["scale"]])


def programme_labels(language: str, site: str | None, site_names: dict) -> dict[str, str]:
    """The programme answers as a student at `site` sees them: the site's own programme
    names where the deployment sets them (`settings.PROGRAMME_NAMES[site][language]`),
    the instrument's defaults for the rest. The codes never change.

    Args:
        language: one of `LANGUAGES`.
        site: the student's site (e.g. "oslo"), or None when the session has none.
        site_names: site -> language -> programme code -> name, as
            `settings.PROGRAMME_NAMES`; may be empty or None. An empty name keeps the
            default one.
    """
    labels = choice_labels(language, "programme")
    own = ((site_names or {}).get(site or "") or {}).get(language) or {}
    return {code: own.get(code) or label for code, label in labels.items()}


def programme_name_problems(site_names: dict) -> list[str]:
    """What is wrong in a deployment's programme names (unknown language or programme
    code, empty name), one readable line each; empty when nothing is.

    Args:
        site_names: site -> language -> programme code -> name, as
            `settings.PROGRAMME_NAMES`; may be empty or None. Site names are not checked
            here (settings.py reads only the sites it knows).
    """
    problems = []
    codes = set(choice_labels(MASTER, "programme"))
    for site, per_language in (site_names or {}).items():
        for language, names in (per_language or {}).items():
            if language not in LANGUAGES:
                problems.append(f"programme names for site {site!r}: unknown language {language!r}")
                continue
            for code, label in (names or {}).items():
                if code not in codes:
                    problems.append(f"programme names for site {site!r} ({language}): unknown programme "
                                    f"code {code!r} (codes: {', '.join(sorted(codes))})")
                elif not str(label).strip():
                    problems.append(f"programme names for site {site!r} ({language}): empty name for {code!r}")
    return problems


def question_label(language: str, field: str) -> str:
    """The question's text as the student reads it.

    Args:
        language: one of `LANGUAGES`.
        field: a key of `questions` in the texts (KeyError otherwise).
    """
    return load(language)["questions"][field]["label"]


def draw_scale_order(rng) -> list[str]:
    """The order in which one student sees the scale pages (recorded in `scale_order`).

    Args:
        rng: a `random.Random` (the student's presentation randomness); one `shuffle`
            is drawn from it.

    Returns the names of `contract.RATED_SCALES` in a random order.
    """
    scales = list(contract.RATED_SCALES)
    rng.shuffle(scales)
    return scales


def parse_scale_order(raw: str | None) -> list[str]:
    """A stored `scale_order` back as a list; the canonical order if it is missing or broken.

    Args:
        raw: the stored field, the scale names joined by commas, or None. "Broken" means
            not exactly the names of `contract.RATED_SCALES` once each.
    """
    scales = [s for s in (raw or "").split(",") if s]
    return scales if sorted(scales) == sorted(contract.RATED_SCALES) else list(contract.RATED_SCALES)


def draw_orders(rng) -> dict[str, list[str]]:
    """One student's presentation orders: items within each outcome scale, and the
    options of the two checks ("don't know" always last). Recorded in `item_order`.

    Args:
        rng: a `random.Random` (the student's presentation randomness); the shuffles are
            drawn from it in a fixed sequence, so a seeded session repeats them.

    Returns scale name or check field (`mc_manager`, `mc_partner`) -> item names or
    answer codes in the order shown.
    """
    orders = {}
    for scale in contract.RATED_SCALES:
        items = contract.SCALES[scale]
        items = list(items)
        rng.shuffle(items)
        orders[scale] = items
    for field in ("mc_manager", "mc_partner"):
        options = [o for o in contract.ANSWER_CODES[field] if o != contract.DONT_KNOW]
        rng.shuffle(options)
        orders[field] = [*options, contract.DONT_KNOW]
    return orders


def vignette(language: str, programme: str, manager: str, partner: str, partner_profession: str) -> list[str]:
    """The vignette as paragraphs, for one student's programme and cell.

    Args:
        language: one of `LANGUAGES`.
        programme: the student's programme code (`contract.PROGRAMMES`): the role the
            story casts them in.
        manager: the manager arm, `trust` or `control`.
        partner: the partner arm, `same` or `other` profession.
        partner_profession: the partner's profession code (a key of `vignette.professions`
            in the texts, e.g. `nurse`), drawn at assignment.

    Returns four plain-text paragraphs: the frame, the manager, the case with the
    partner, the closing.
    """
    v = load(language)["vignette"]
    partner_text = v["partner"][partner].format(profession=v["professions"][partner_profession])
    return [
        v["frame"].format(role=v["roles"][programme]),
        v["manager"][manager],
        v["case"] + " " + partner_text,
        v["closing"],
    ]
