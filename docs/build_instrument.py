"""Write docs/instrument.md from the instrument's three JSON files: every text in English,
Norwegian (bokmål) and Danish side by side, and the variables with their codes.

    python docs/build_instrument.py           # rewrite docs/instrument.md
    python docs/build_instrument.py --check   # exit 1 if docs/instrument.md is out of date
    python docs/build_instrument.py --help

The JSON files (collab_experiment/instrument/{en,nb,da}.json) are the master; this page is
only a view of them for readers (research team, translators, reviewers), so it is never
edited by hand. Reads the files directly: needs neither oTree nor the app.
"""

from __future__ import annotations

import itertools
import json
import pathlib
import re
import runpy
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
INSTRUMENT_DIR = REPO / "collab_experiment" / "instrument"
OUT = REPO / "docs" / "instrument.md"
sys.path.insert(0, str(REPO))  # the analysis package, run as a script from anywhere
from analysis.nested import flatten  # noqa: E402
LANGUAGES = ("en", "nb", "da")

# Where each group of texts appears, in the order a student meets them.
SECTIONS = [
    ("consent", "Consent page (short screen and full letter)",
     "`{controller}`, `{storage}` … are the study details of `settings.py` (`STUDY`), in the "
     "page's language."),
    ("questions", "Questions",
     "Background (`programme`, `programme_level`, `year_of_study`, `campus`, `age_band`, `gender`, "
     "`municipal_experience`, then `psm_1`, `psm_2`, `attention`, `psm_3`) before the vignette; the "
     "four scales after it, in a random order per student; then the checks `mc_manager`, "
     "`mc_partner` (options in a random order, \"don't know\" last), then `realism` and `taught_tbm`."),
    ("scales", "Answer scales", ""),
    ("vignette", "Vignette",
     "Shown as four paragraphs: `frame` (with the role of the student's programme), the manager "
     "text of the student's arm, `case` followed by the partner text of the arm (with the "
     "partner's profession), and `closing`."),
    ("pages", "Page titles and introductions", ""),
    ("ui", "Buttons, progress and messages", ""),
    ("debrief", "Debrief", ""),
    ("finished", "Finish page (everyone, whether they took part or not)", ""),
    ("welcome", "Room welcome page (before a language is chosen: all three languages on one page)", ""),
    ("server_error", "Server error page (all three languages on one page)", ""),
    ("full", "Session full page", ""),
    ("waiting", "Room waiting page (the room link opened before the session exists: all three languages on "
     "one page, which moves on by itself when the session is created)", ""),
    ("no_more_pages", "No more pages (an old tab opened after the last page: all three languages on one page)", ""),
    ("bad_link", "A student's link that leads nowhere (a mistyped room, a deleted session: all three languages on one page)", ""),
    ("projector", "Projector view (shown to the class)",
     "`joined` = `not_started` + `in_progress` + `left` + `finished` + `declined`, shown exactly."),
    ("instructor", "Instructor's screens (live dashboard, server start-up lines, messages)",
     "The admin is in English: the dashboard and the server's start-up lines use the English texts."),
    ("class_results", "Class results (shown to the class after the survey)",
     "The instructor's page `/ClassResults/<session>`: `{n}` is a count of students; "
     "`{manager}`, `{partner}`, `{low}`, `{high}` are filled in from the texts and numbers "
     "above; `decimal` is the decimal mark the page writes numbers with."),
]


def load() -> dict[str, dict]:
    return {lang: json.loads((INSTRUMENT_DIR / f"{lang}.json").read_text(encoding="utf-8"))
            for lang in LANGUAGES}


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(rows: list[tuple[str, list]]) -> list[str]:
    lines = ["| key | en | nb | da |", "|---|---|---|---|"]
    lines += [f"| `{key}` | " + " | ".join(_cell(v) for v in values) + " |" for key, values in rows]
    return lines


def _variables(en: dict) -> list[str]:
    lines = ["| variable | answers (code: English label) |", "|---|---|"]
    for field, q in en["questions"].items():
        if "choices" in q:
            answers = " · ".join(f"`{code}` {_cell(label)}" for code, label in q["choices"].items())
        else:
            scale = en["scales"][q["scale"]]
            answers = f"1–{len(scale)} ({_cell(scale['1'])} … {_cell(scale[str(len(scale))])})"
        lines.append(f"| `{field}` | {answers} |")
    return lines


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _manager_sentences(texts: dict[str, dict]) -> list[str]:
    """The two manager texts sentence by sentence: five parallel sentences per arm."""
    lines = ["The two manager texts sentence by sentence (goals, methods, documentation, planning "
             "of the work, follow-up; a student sees one of them, as one paragraph):", ""]
    for lang in LANGUAGES:
        manager = texts[lang]["vignette"]["manager"]
        trust, control = _sentences(manager["trust"]), _sentences(manager["control"])
        lines += [f"| {lang} | trust | control |", "|---|---|---|"]
        lines += [f"| {i} | {_cell(a)} | {_cell(b)} |"
                  for i, (a, b) in enumerate(itertools.zip_longest(trust, control, fillvalue=""), 1)]
        lines.append("")
    return lines[:-1]


def _study_details() -> list[str]:
    """The study details' defaults (settings.py), per language; a deployment sets its own."""
    settings = runpy.run_path(str(REPO / "settings.py"))
    lines = ["Default study details (`settings.py`, `STUDY_TEXT_DEFAULTS`; a deployment sets "
             "`STUDY_<NAME>_<LANGUAGE>` or `STUDY_<NAME>`, see README):", "",
             "| setting | en | nb | da |", "|---|---|---|---|"]
    lines += [f"| `{name}` | " + " | ".join(_cell(values[lang]) for lang in LANGUAGES) + " |"
              for name, values in settings["STUDY_TEXT_DEFAULTS"].items()]
    lines += [f"| `{name}` | {_cell(value)} (all languages) | | |"
              for name, value in settings["STUDY_SHARED_DEFAULTS"].items()]
    return lines


def render(texts: dict[str, dict] | None = None) -> str:
    texts = texts or load()
    en = texts["en"]
    meta = {lang: texts[lang]["meta"] for lang in LANGUAGES}
    flat = {lang: flatten(texts[lang]) for lang in LANGUAGES}
    out = [
        "# The instrument in three languages",
        "",
        "<!-- Generated by docs/build_instrument.py from collab_experiment/instrument/*.json. "
        "Do not edit: edit the JSON files and run `python docs/build_instrument.py`. -->",
        "",
        f"Instrument version **{meta['en']['instrument_version']}**, consent version "
        f"**{meta['en']['consent_version']}**. Every participant-facing string of the survey, "
        "error messages and buttons included, comes from `collab_experiment/instrument/{en,nb,da}.json` "
        "(the same keys in each); this page shows them side by side.",
        "",
        "| language | file | reviewed by a native speaker |",
        "|---|---|---|",
        *[f"| {meta[lang]['name']} | `{lang}.json` | {'yes' if meta[lang]['reviewed'] else 'not yet'} |"
          for lang in LANGUAGES],
        "",
        "Placeholders in braces (`{role}`, `{profession}`, `{contact_email}`, …) are filled in "
        "when the page is shown.",
        "",
        "## Variables and their codes",
        "",
        "The stored value of each question is its code; the labels below are the English ones "
        "(all three languages further down). Besides these answers, each participant row holds "
        "`item_order` (the order of the items within each scale and of the check options, JSON), "
        "`scale_order` (the order of the four scale pages, comma-separated, e.g. "
        "`collaboration,autonomy,trust_manager,attractiveness`) and `seed` (the session's seed; "
        "empty when the session drew from the cryptographic source). `mc_manager_correct` is true "
        "only for the option of the student's own arm (`appraisal`, described by neither text, "
        "never is); autonomy is the manipulation check of the manager factor.",
        "",
        *_variables(en),
    ]
    for section, title, note in SECTIONS:
        keys = [k for k in flat["en"] if k.split(".", 1)[0] == section]
        out += ["", f"## {title}", ""]
        if note:
            out += [note, ""]
        rows = [(k.split(".", 1)[1], [flat[lang][k] for lang in LANGUAGES]) for k in keys
                if not k.endswith(".scale")]
        out += _table(rows)
        if section == "consent":
            out += ["", *_study_details()]
        if section == "vignette":
            out += ["", *_manager_sentences(texts)]
    known = {s for s, _, _ in SECTIONS} | {"meta"}
    rest = [k for k in en if k not in known]
    if rest:  # a new group of texts still shows up, under its own key
        for section in rest:
            keys = [k for k in flat["en"] if k.split(".", 1)[0] == section]
            out += ["", f"## {section}", ""]
            out += _table([(k.split(".", 1)[1], [flat[lang][k] for lang in LANGUAGES]) for k in keys])
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    """Rewrite the page, or with --check only compare it; the exit status.

    Args:
        argv: the command-line arguments (without the program's name).
    """
    import argparse

    parser = argparse.ArgumentParser(
        prog="python docs/build_instrument.py",
        description="Write docs/instrument.md from collab_experiment/instrument/{en,nb,da}.json "
                    "(the JSON files are the master; the page is never edited by hand).")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the page would change (for CI and tests)")
    parser.add_argument("--out", type=pathlib.Path, default=OUT,
                        help="the page to write or check (default: docs/instrument.md)")
    args = parser.parse_args(argv)
    out = args.out
    try:
        shown = out.resolve().relative_to(REPO)
    except ValueError:
        shown = out.name
    text = render()
    if args.check:
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            print(f"{shown} is out of date: run python docs/build_instrument.py", file=sys.stderr)
            return 1
        print(f"{shown} is up to date")
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
