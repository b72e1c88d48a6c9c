"""The README's screenshot of the class results page (a script, not a test):

    python tests/screenshot_class_results.py [--n 200] [--out _static/docs/class_results.png]

A dry-run class of N bots through the real apps (`tests/class_results_dryrun.py`), its
results page as the view renders it, shown in Debian's Chromium at projector size
(1280×800, headless) and saved as PNG.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from browser import launch  # noqa: E402
from conftest import copy_project  # noqa: E402


def dry_run_page(n: int, folder: pathlib.Path) -> pathlib.Path:
    """Run N dry-run bots in a copy of the project; the path of their results page."""
    project = copy_project(folder / "project", with_bots=True)
    out = folder / "out"
    env = {**os.environ, "OTREE_DRYRUN": "1",
           "PATH": str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    for key in ("DATABASE_URL", "OTREE_PRODUCTION", "OTREE_AUTH_LEVEL"):
        env.pop(key, None)
    result = subprocess.run([sys.executable, str(HERE / "class_results_dryrun.py"), str(n), str(out)],
                            cwd=project, env=env, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(result.stdout[-3000:] + result.stderr[-3000:])
    return out / "class_results.html"


def shoot(page_path: pathlib.Path, png: pathlib.Path, width: int = 1280, height: int = 800,
          full_page: bool = False) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        context = browser.new_context(viewport=dict(width=width, height=height), device_scale_factor=1)
        page = context.new_page()
        page.set_content(page_path.read_text(encoding="utf-8"), wait_until="load")
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png), full_page=full_page)
        browser.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--out", default=str(HERE.parent / "_static" / "docs" / "class_results.png"))
    parser.add_argument("--page", help="an already rendered results page (skips the dry run)")
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        page = pathlib.Path(args.page) if args.page else dry_run_page(args.n, pathlib.Path(tmp))
        shoot(page, pathlib.Path(args.out), full_page=args.full_page)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
