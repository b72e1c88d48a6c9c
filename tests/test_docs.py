"""docs/instrument.md is generated from the instrument's JSON files and must not drift."""

import copy
import importlib.util
import json
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent


def builder():
    spec = importlib.util.spec_from_file_location("build_instrument", REPO / "docs" / "build_instrument.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_instrument_md_is_up_to_date_with_the_json_files():
    build = builder()
    assert (REPO / "docs" / "instrument.md").read_text(encoding="utf-8") == build.render(), \
        "docs/instrument.md is out of date: run python docs/build_instrument.py"


def test_every_text_of_every_language_is_on_the_page():
    build = builder()
    page = build.render()
    for lang, data in build.load().items():
        for key, value in build.flatten(data).items():
            if isinstance(value, str) and not key.startswith("meta.") and not key.endswith(".scale"):
                assert value.replace("|", "\\|") in page, (lang, key)


def test_a_changed_text_makes_the_check_fail():
    build = builder()
    texts = build.load()
    changed = copy.deepcopy(texts)
    changed["da"]["questions"]["realism"]["label"] += " (ændret)"
    assert build.render(changed) != build.render(texts)
    res = subprocess.run([sys.executable, str(REPO / "docs" / "build_instrument.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr  # the committed page matches the committed JSON
    json.dumps(changed)  # still plain JSON data
