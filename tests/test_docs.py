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


def test_help_writes_nothing_and_check_finds_a_stale_page(tmp_path):
    script = str(REPO / "docs" / "build_instrument.py")
    page = REPO / "docs" / "instrument.md"
    before = page.stat().st_mtime_ns, page.read_bytes()
    res = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--check" in res.stdout, res.stderr
    res = subprocess.run([sys.executable, script, "--no-such-option"], capture_output=True, text=True)
    assert res.returncode == 2
    assert (page.stat().st_mtime_ns, page.read_bytes()) == before  # neither rewrote the page
    stale = tmp_path / "instrument.md"
    stale.write_text(page.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    res = subprocess.run([sys.executable, script, "--check", "--out", str(stale)], capture_output=True, text=True)
    assert res.returncode == 1 and "out of date" in res.stderr
    assert stale.read_text(encoding="utf-8").endswith("edited by hand\n")  # --check writes nothing
    res = subprocess.run([sys.executable, script, "--out", str(stale)], capture_output=True, text=True)
    assert res.returncode == 0 and stale.read_text(encoding="utf-8") == page.read_text(encoding="utf-8")
    res = subprocess.run([sys.executable, script, "--check", "--out", str(stale)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
