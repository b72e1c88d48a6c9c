"""Load benchmark: a lecture hall of simulated phones against `otree prodserver`.

    python tests/benchmarks/bench_load.py                    # full: 300 students, SQLite and PostgreSQL
    python tests/benchmarks/bench_load.py --students 60 --runs 1 --scenarios burst

Each simulated phone has its own cookies and its own kept-alive connection and walks the
whole survey over HTTP, answering what each page shows. The phones are asyncio tasks in
this one process (aiohttp), so that the load generator costs the machine little: with a
thread per phone (requests), 300 threads fighting for one interpreter lock took the CPU
the server needed and added their own waiting to every measured latency. Two scenarios:

- burst: all students wait at every page and press Next at the same moment;
- class: students arrive spread over `--arrival` seconds and read 3–15 s per page.

The same run measures a stock one-app oTree survey with the same number of pages
(stock templates, Bootstrap and all) as the baseline, and prints our throughput as a
ratio of it. Reports requests per second, p50/p95/p99 latency, errors, answers lost
(what a student sent that is not in the database) and the final balance.
Numbers go to BENCHMARKS.md by hand; nothing here is a test assertion.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

import aiohttp  # noqa: E402

from conftest import Server, copy_project  # noqa: E402
from throwaway_postgres import ThrowawayPostgres  # noqa: E402
from student import choose_answers, url_part  # noqa: E402

import stock  # noqa: E402

PROGRAMMES = ("nursing", "teacher", "management", "public_admin", "other")
ERROR_SAMPLES: list[str] = []  # the first errors, printed to explain a count


# --- the stock baseline: one app, same number of form pages, oTree's own templates ---
STOCK_PAGES = 12  # as many submissions as our survey: consent … debrief (instrument 2026.2)


def write_stock_project(folder: pathlib.Path) -> None:
    fields = [f"q{i}_{j}" for i in range(STOCK_PAGES) for j in range(3)]
    pages = "\n".join(
        f"class P{i}(Page):\n    form_model = 'player'\n    form_fields = {fields[i*3:(i+1)*3]!r}\n"
        for i in range(STOCK_PAGES)
    )
    app = (
        "from otree.api import *\n\n"
        "class C(BaseConstants):\n    NAME_IN_URL = 'stock'\n    PLAYERS_PER_GROUP = None\n    NUM_ROUNDS = 1\n\n"
        "class Subsession(BaseSubsession):\n    pass\n\nclass Group(BaseGroup):\n    pass\n\n"
        "class Player(BasePlayer):\n"
        + "".join(f"    {f} = models.IntegerField(choices=[1, 2, 3, 4, 5, 6, 7], widget=widgets.RadioSelect)\n"
                  for f in fields)
        + "\n" + pages + "\nclass End(Page):\n    pass\n\n"
        + f"page_sequence = [{', '.join(f'P{i}' for i in range(STOCK_PAGES))}, End]\n"
    )
    templates = {f"P{i}": "{{ block title }}Page{{ endblock }}\n{{ block content }}"
                          "{{ formfields }}{{ next_button }}{{ endblock }}\n" for i in range(STOCK_PAGES)}
    templates["End"] = "{{ block title }}Thank you{{ endblock }}\n{{ block content }}Done.{{ endblock }}\n"
    stock.write_project(folder, app, templates)


# --- one simulated phone ---
class Phone:
    """One student's phone: its own cookie jar and its own connection (kept alive, as a
    browser keeps it), reading each page and answering what it shows. Every HTTP request is
    timed on its own; a page turn is the POST and the GET oTree redirects it to.

    The server closes a connection that stayed idle for 5 s. A request that finds its
    kept-alive connection closed before any answer is sent again on a new connection, as a
    browser does, and counted as a reconnect, not an error: the server never saw it.
    """

    def __init__(self, start_url: str, *, programme: str, seed: int, sink: list):
        self.start_url, self.programme, self.sink = start_url, programme, sink
        self.rng = random.Random(seed)
        self.url, self.html, self.status = "", "", 0
        self.http: aiohttp.ClientSession | None = None

    page = property(lambda self: url_part(self.url, "page"))
    code = property(lambda self: url_part(self.url, "code"))

    async def _send(self, method: str, url: str, data: dict | None, *, retry: bool = True):
        start = time.perf_counter()
        try:
            async with self.http.request(method, url, data=data, allow_redirects=False,
                                         timeout=aiohttp.ClientTimeout(total=300)) as response:
                body = await response.text()
        except Exception as exc:  # noqa: BLE001  (counted, reported, re-raised)
            stale = isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError))
            if stale and retry:  # a kept-alive connection the server had closed
                self.sink.append(("reconnect", 0.0))
                return await self._send(method, url, data, retry=False)
            self.sink.append(("error", time.perf_counter() - start))
            ERROR_SAMPLES.append(f"{type(exc).__name__}: {str(exc)[:160]}")
            raise
        failed = response.status >= 500
        if failed:
            ERROR_SAMPLES.append(f"HTTP {response.status} {url}")
        self.sink.append(("error" if failed else "ok", time.perf_counter() - start))
        return response, body

    async def request(self, method: str, url: str, data: dict | None = None) -> None:
        """One navigation: the request and the redirects it leads to, each timed."""
        for _ in range(10):
            response, body = await self._send(method, url, data)
            if response.status in (301, 302, 303, 307, 308):
                url, method, data = urllib.parse.urljoin(url, response.headers["Location"]), "GET", None
                continue
            self.url, self.html, self.status = url, body, response.status
            return
        raise RuntimeError(f"too many redirects from {url}")

    async def walk(self, *, think: tuple[float, float] | None, barrier: "Phaser | None", sent: dict) -> None:
        jar = aiohttp.CookieJar(unsafe=True)  # the server is an IP address; a browser keeps its cookies
        async with aiohttp.ClientSession(cookie_jar=jar, connector=aiohttp.TCPConnector(limit=1)) as self.http:
            await self.request("GET", self.start_url)
            for _ in range(30):
                if self.page in ("Finished", "End", ""):
                    return
                if think:
                    await asyncio.sleep(self.rng.uniform(*think))
                if barrier is not None:
                    await barrier.wait()
                before = self.url
                data = choose_answers(self.html, self.page, self.rng, programme=self.programme)
                await self.request("POST", before, data)
                if self.status >= 500 or self.url == before:
                    raise RuntimeError(f"no progress on {before}: {self.status}")
                sent[self.code].update({k: v for k, v in data.items() if k not in ("consented", "age_confirmed")})


class Phaser:
    """Everyone still walking presses Next together, page after page (burst scenario).

    A student who finishes (or fails) leaves, so the others never wait for them.
    """

    def __init__(self, parties: int):
        self.parties, self.arrived, self.generation = parties, 0, 0
        self.cond = asyncio.Condition()

    async def wait(self):
        async with self.cond:
            generation = self.generation
            self.arrived += 1
            if self.arrived >= self.parties:
                self._release()
            else:
                await self.cond.wait_for(lambda: generation != self.generation)

    async def leave(self):
        async with self.cond:
            self.parties -= 1
            if self.parties > 0 and self.arrived >= self.parties:
                self._release()

    def _release(self):
        self.arrived, self.generation = 0, self.generation + 1
        self.cond.notify_all()


async def run_phones(url: str, n: int, scenario: str, arrival: float, seed: int) -> dict:
    latencies: list = []
    sent: dict = collections.defaultdict(dict)
    barrier = Phaser(n) if scenario == "burst" else None

    async def one(i):
        phone = Phone(url, programme=PROGRAMMES[i % 5], seed=seed * 1000 + i, sink=latencies)
        if scenario == "class":
            await asyncio.sleep(arrival * i / n)
        try:
            await phone.walk(think=(3, 15) if scenario == "class" else None, barrier=barrier, sent=sent)
        finally:
            if barrier is not None:
                await barrier.leave()

    start, cpu_start = time.perf_counter(), time.process_time()
    outcomes = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    elapsed = time.perf_counter() - start
    generator_cpu = (time.process_time() - cpu_start) / elapsed  # share of one core the phones took
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    ERROR_SAMPLES.extend(f"student: {type(o).__name__}: {str(o)[:160]}" for o in failed)
    times = sorted(t for status, t in latencies if status == "ok")
    reconnects = sum(1 for status, _ in latencies if status == "reconnect")
    latencies = [x for x in latencies if x[0] != "reconnect"]
    errors = len(failed) + sum(1 for status, _ in latencies if status == "error")
    q = statistics.quantiles(times, n=100) if len(times) >= 2 else [float("nan")] * 99
    return dict(requests=len(latencies), seconds=elapsed, rps=len(latencies) / elapsed, errors=errors,
                p50=q[49] * 1000, p95=q[94] * 1000, p99=q[98] * 1000, sent=sent,
                finished=n - len(failed), reconnects=reconnects,
                generator_cpu=generator_cpu)


def run_scenario(url: str, n: int, scenario: str, arrival: float, seed: int) -> dict:
    return asyncio.run(run_phones(url, n, scenario, arrival, seed))


def lost_and_balance(server: Server, sent: dict) -> tuple[int, dict]:
    """Answers sent but not stored, and the largest cell difference per stratum."""
    import sqlalchemy

    url = server.env.get("DATABASE_URL") or f"sqlite:///{server.folder / 'db.sqlite3'}"
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as con:
        rows = [dict(r) for r in con.execute(sqlalchemy.text(
            "SELECT q.code, p.* FROM collab_experiment_player p JOIN otree_participant q ON p.participant_id = q.id"))]
    engine.dispose()
    by_code = {r["code"]: r for r in rows}
    lost = 0
    for code, answers in sent.items():
        stored = by_code.get(code, {})
        for field, value in answers.items():
            if field in stored and str(stored[field]) != str(value):
                lost += 1
    counts = collections.defaultdict(collections.Counter)
    for r in rows:
        if r["manager"]:
            counts[r["stratum"]][(r["manager"], r["partner"])] += 1
    balance = {s: max(c.values()) - min(c.values()) if len(c) == 4 else max(c.values()) for s, c in counts.items()}
    return lost, balance


def measure(label: str, folder: pathlib.Path, env: dict, config: str, n: int, scenario: str, arrival: float,
            seed: int, check: bool) -> dict:
    server = Server(folder, env=env).start()
    try:
        session = server.create_session(config, n)
        result = run_scenario(session["session_wide_url"], n, scenario, arrival, seed)
        if check:
            result["lost"], result["balance"] = lost_and_balance(server, result["sent"])
        result["label"] = label
        return result
    finally:
        server.stop()


def fresh_postgres(admin_url: str) -> str | None:
    try:
        import psycopg2

        con = psycopg2.connect(admin_url, connect_timeout=3)
    except Exception:  # noqa: BLE001
        return None
    con.autocommit = True
    name = f"otree_bench_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    con.cursor().execute(f'CREATE DATABASE "{name}"')
    con.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration (median reported)")
    parser.add_argument("--scenarios", default="burst,class")
    parser.add_argument("--arrival", type=float, default=60.0, help="class scenario: arrivals spread over seconds")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"),
                        help="a PostgreSQL admin URL; default: a throw-away server of the benchmark's own")
    args = parser.parse_args(argv)
    if args.postgres or "postgresql" not in args.databases.split(","):
        return run(args)
    with ThrowawayPostgres(durable=True) as pg:  # fsync on, as a real server
        args.postgres = pg.url
        return run(args)


def run(args) -> int:
    """Every scenario and database of `args` (see `main`); prints the table, returns the exit code.

    args: the parsed command line.
    """
    rows = []
    for scenario in args.scenarios.split(","):
        for database in args.databases.split(","):
            results, stock_results = [], []
            for run in range(args.runs):
                with tempfile.TemporaryDirectory() as tmp:
                    tmp = pathlib.Path(tmp)
                    env = {}
                    if database == "postgresql":
                        url = fresh_postgres(args.postgres)
                        if url is None:
                            print(f"skipping PostgreSQL: not reachable at {args.postgres}")
                            break
                        env["DATABASE_URL"] = url
                    ours = measure("ours", copy_project(tmp / "ours"), env, "classroom", args.students, scenario,
                                   args.arrival, seed=run + 1, check=True)
                    if database == "postgresql":
                        env["DATABASE_URL"] = fresh_postgres(args.postgres)
                    write_stock_project(tmp / "stock")
                    stock = measure("stock", tmp / "stock", env, "stock", args.students, scenario, args.arrival,
                                    seed=run + 1, check=False)
                results.append(ours)
                stock_results.append(stock)
                print(f"{scenario:5} {database:10} run {run + 1}: ours {ours['rps']:.1f} req/s "
                      f"p95 {ours['p95']:.0f} ms errors {ours['errors']} lost {ours['lost']} "
                      f"reconnects {ours['reconnects']} balance {max(ours['balance'].values(), default=0)} "
                      f"phones' CPU {ours['generator_cpu']:.0%} of a core | "
                      f"stock {stock['rps']:.1f} req/s p95 {stock['p95']:.0f} ms errors {stock['errors']}",
                      flush=True)
            if not results:
                continue
            med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
            rows.append(dict(
                scenario=scenario, database=database, runs=len(results),
                rps=med(results, "rps"), p50=med(results, "p50"), p95=med(results, "p95"), p99=med(results, "p99"),
                errors=sum(r["errors"] for r in results), lost=sum(r["lost"] for r in results),
                balance=max(max(r["balance"].values(), default=0) for r in results),
                stock_rps=med(stock_results, "rps"), stock_p95=med(stock_results, "p95"),
                stock_errors=sum(r["errors"] for r in stock_results),
            ))
    if ERROR_SAMPLES:
        print("first errors:", *sorted(set(ERROR_SAMPLES))[:10], sep="\n  ")
    print()
    print(f"{args.students} students, median of runs; ratio = our req/s ÷ stock req/s in the same run")
    print("| scenario | database | runs | req/s | p50 ms | p95 ms | p99 ms | errors | lost answers | "
          "largest cell difference | stock req/s | stock p95 ms | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['scenario']} | {r['database']} | {r['runs']} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | "
              f"{r['p99']:.0f} | {r['errors']} | {r['lost']} | {r['balance']} | {r['stock_rps']:.1f} | "
              f"{r['stock_p95']:.0f} | {r['rps'] / r['stock_rps']:.2f} |")
    return 0 if all(r["errors"] == 0 and r["lost"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
