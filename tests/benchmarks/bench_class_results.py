"""Benchmark of the class results page (a script, not a test):

    python tests/benchmarks/bench_class_results.py [--runs 21] [--n 300]

A class of N finished students (60 per programme, every version equally often, answers
drawn at random) is written into the SQLite database of a throw-away `otree
prodserver` on 127.0.0.1; then, interleaved so that all see the same machine load, the
server's response time (request sent → body received, `requests`) for:

* `/ClassResults/<code>?anyway=1`, the page (every programme shown: 6 groups × 3 scales);
* `/Projector/<code>` and `/ClassCounts/<code>` (the live counts, JSON), the instructor's
  existing views of the same session, as the baseline.

Also the page's computation and drawing alone, in this process (`class_results`, no
server, no database). Prints medians and a Markdown table for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parents[1])]

import requests  # noqa: E402

from analysis import contract  # noqa: E402
from collab_experiment import class_results as cr, texts  # noqa: E402
from conftest import Server, copy_project  # noqa: E402


def fill_class(db: pathlib.Path, session_code: str, seed: int = 1) -> int:
    """Every player of the session: joined, assigned, finished, with random answers."""
    rng = random.Random(seed)
    con = sqlite3.connect(db)
    with con:
        ids = [r[0] for r in con.execute(
            "SELECT p.id FROM collab_experiment_player p JOIN otree_session s ON p.session_id = s.id "
            "WHERE s.code = ? ORDER BY p.id", (session_code,))]
        items = [i for s in contract.RATED_SCALES for i in contract.SCALES[s]]
        for k, pid in enumerate(ids):
            programme = contract.PROGRAMMES[k % len(contract.PROGRAMMES)]
            manager, partner = cr.VERSIONS[(k // len(contract.PROGRAMMES)) % 4]
            values = dict(programme=programme, manager=manager, partner=partner, completed=1, withdrawn=0,
                          **{i: rng.randint(1, 7) for i in items})
            sets = ", ".join(f'"{c}" = ?' for c in values)
            con.execute(f"UPDATE collab_experiment_player SET {sets} WHERE id = ?", (*values.values(), pid))
        con.execute("UPDATE otree_participant SET visited = 1, _current_page_name = 'Finished' WHERE session_id = "
                    "(SELECT id FROM otree_session WHERE code = ?)", (session_code,))
    con.close()
    return len(ids)


def timed_get(http: requests.Session, url: str) -> tuple[float, int, int]:
    """Milliseconds until the body is in, bytes on the wire, bytes of the page."""
    t0 = time.perf_counter()
    r = http.get(url, timeout=60)
    ms = (time.perf_counter() - t0) * 1000
    r.raise_for_status()
    return ms, int(r.headers.get("content-length") or len(r.content)), len(r.content)


def in_process(n: int, runs: int) -> float:
    """Median ms of computing and drawing the page for n students (no server)."""
    rng = random.Random(2)
    students = [dict(programme=contract.PROGRAMMES[k % 5], manager=cr.VERSIONS[(k // 5) % 4][0],
                     partner=cr.VERSIONS[(k // 5) % 4][1], **{s: rng.randint(4, 28) / 4 for s in cr.SCALES})
                for k in range(n)]
    t = texts.load("en")
    names = texts.programme_labels("en", None, {})
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        cr.render_page(cr.class_results(students), t, "en", names)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        project = copy_project(pathlib.Path(tmp) / "project")
        server = Server(project).start()
        try:
            # in a room: the projector shows the room's link
            r = requests.post(server.url + "/api/sessions", json=dict(
                session_config_name="classroom", num_participants=args.n, room_name="class",
                modified_session_config_fields=dict(language="en")), timeout=120)
            r.raise_for_status()
            session = r.json()
        finally:
            server.stop()
        filled = fill_class(project / "db.sqlite3", session["code"])
        server = Server(project).start()
        try:
            http = requests.Session()
            code = session["code"]
            urls = dict(results=f"{server.url}/ClassResults/{code}?anyway=1",
                        projector=f"{server.url}/Projector/{code}",
                        counts=f"{server.url}/ClassCounts/{code}")
            for url in urls.values():  # warm up: imports, template and query caches
                for _ in range(3):
                    timed_get(http, url)
            samples = {k: [] for k in urls}
            sizes = {}
            for _ in range(args.runs):
                for name, url in urls.items():
                    ms, wire, size = timed_get(http, url)
                    samples[name].append(ms)
                    sizes[name] = (wire, size)
        finally:
            server.stop()
    med = {k: statistics.median(v) for k, v in samples.items()}
    alone = in_process(args.n, args.runs)
    print(f"{platform.machine()}, Python {platform.python_version()}, {filled} finished students, "
          f"{args.runs} runs each, interleaved (medians)\n")
    print("| request | median ms | min–max ms | bytes on the wire | bytes of the page | ratio to the projector page |")
    print("|---|---:|---:|---:|---:|---:|")
    labels = dict(results="`/ClassResults/<code>?anyway=1` (the results page)",
                  projector="`/Projector/<code>` (baseline)", counts="`/ClassCounts/<code>` (live counts JSON)")
    for name in urls:
        print(f"| {labels[name]} | {med[name]:.1f} | {min(samples[name]):.1f}–{max(samples[name]):.1f} | "
              f"{sizes[name][0]:,} | {sizes[name][1]:,} | {med[name] / med['projector']:.2f} |")
    print(f"\nComputation and drawing alone (in process, {args.n} students): median {alone:.1f} ms")
    print(f"Targets: under 200 ms ({med['results']:.0f} ms) and under 50 KB ({sizes['results'][0] / 1000:.1f} KB on the wire, "
          f"{sizes['results'][1] / 1000:.1f} KB unpacked).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
