"""The README's screenshots of the projector view and the live dashboard (a script, not a test):

    python tests/screenshot_instructor.py [--out _static/docs] [--language nb] [--room oslo]

A production server in a copy of the project (its own SQLite file, the admin open, with
OTREE_PUBLIC_URL=https://survey.example.org so the link is the one a class would see), a
room session, students walked through it over HTTP (most finish, a few stop midway, one
only opens the link), then the projector at 1280×720 and the Report tab (900 wide, the
whole page) in Debian's Chromium, headless. `--also 1024x768` saves further projector
sizes next to them (for checking the link's line breaks; not shown in the README).
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

import requests

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from browser import launch  # noqa: E402
from conftest import Server, copy_project  # noqa: E402
from student import Student  # noqa: E402


def class_in_room(srv: Server, room: str, language: str, finished: int, midway: int) -> str:
    """A room session with `finished` students done, `midway` on the vignette and one who
    only opened the link; its code.

    Args:
        srv: the running server.
        room: the room's name.
        language: the session's language.
        finished: how many students finish.
        midway: how many stop at the vignette.
    """
    r = requests.post(srv.url + "/api/sessions", json=dict(
        session_config_name="classroom", num_participants=finished + midway + 10, room_name=room,
        modified_session_config_fields=dict(language=language)), timeout=60)
    r.raise_for_status()
    code = r.json()["code"]
    link = f"{srv.url}/room/{room}?welcome_page_ok=1"
    for i in range(finished):
        Student(link, seed=i).open().walk()
    for i in range(midway):
        Student(link, seed=100 + i).open().walk(until="Vignette")
    Student(link, seed=999).open()
    return code


def shoot(url: str, png: pathlib.Path, width: int, height: int, full_page: bool = False) -> None:
    """Save the page at `url` as PNG.

    Args:
        url: the page.
        png: where to save it.
        width: the viewport's width in CSS pixels.
        height: the viewport's height.
        full_page: the whole page rather than the viewport.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_context(viewport=dict(width=width, height=height), device_scale_factor=1).new_page()
        page.goto(url, wait_until="networkidle")
        page.wait_for_timeout(1000)  # the first refresh of the live counts
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png), full_page=full_page)
        browser.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE.parent / "_static" / "docs"), help="folder for the PNGs")
    parser.add_argument("--language", default="nb", help="the session's language (the projector's)")
    parser.add_argument("--room", default="oslo")
    parser.add_argument("--finished", type=int, default=12)
    parser.add_argument("--midway", type=int, default=3)
    parser.add_argument("--also", nargs="*", default=[], help="further projector sizes, e.g. 1024x768")
    parser.add_argument("--public-url", default="https://survey.example.org",
                        help="OTREE_PUBLIC_URL for the server ('' shows the loopback warning)")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        project = copy_project(pathlib.Path(tmp) / "project")
        srv = Server(project, env=dict(OTREE_PUBLIC_URL=args.public_url)).start()
        try:
            code = class_in_room(srv, args.room, args.language, args.finished, args.midway)
            shoot(f"{srv.url}/Projector/{code}", out / "projector.png", 1280, 720)
            for size in args.also:
                width, height = (int(x) for x in size.split("x"))
                shoot(f"{srv.url}/Projector/{code}", out / f"projector-{size}.png", width, height)
            shoot(f"{srv.url}/AdminReport/{code}", out / "dashboard.png", 900, 1000, full_page=True)
        finally:
            srv.stop()
    print(f"wrote {out}/projector.png and {out}/dashboard.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
