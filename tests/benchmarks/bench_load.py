"""Load benchmark: a lecture hall of simulated phones against `otree prodserver`.

    python tests/benchmarks/bench_load.py                    # full: 300 students, SQLite and PostgreSQL
    python tests/benchmarks/bench_load.py --students 60 --runs 1 --scenarios burst
    python tests/benchmarks/bench_load.py --databases pgproxy              # PostgreSQL "on another host"
    python tests/benchmarks/bench_load.py --scenarios real --time-scale 0.2  # realistic class, 5x faster

Each simulated phone has its own cookies and its own kept-alive connection and walks the
whole survey over HTTP, answering what each page shows. The phones are asyncio tasks in
this one process (aiohttp), so that the load generator costs the machine little: with a
thread per phone (requests), 300 threads fighting for one interpreter lock took the CPU
the server needed and added their own waiting to every measured latency. Two scenarios:

- burst: all students wait at every page and press Next at the same moment;
- class (the fast class): students arrive spread over `--arrival` seconds and read 3–15 s per page;
- real (the realistic class): reading times from the instrument (the vignette 30–90 s, each item of
  a scale 3–8 s, other pages 5–15 s), about 3½ minutes of reading a student. It is long: `--time-scale 0.2`
  runs the same class five times faster (arrivals and reading times alike); say so when reporting.

Databases: `sqlite`, `postgresql` (a throw-away PostgreSQL of the benchmark's own, on loopback),
and `pgproxy`: the same PostgreSQL behind `delay_proxy.py`, which delays every packet
(`--proxy-delay-ms`, default 0.5 ms each way), as a database on another host would.

Our phones send each page as survey.js does (`X-Survey-Inline: 1`): the next page comes
back in the answer to the POST, one request per page turn (`--no-inline`: oTree's redirect,
as without JavaScript). A page turn is timed from the POST until the next page is in; stock
oTree's turn is its POST and the redirected GET.

The same run measures a stock one-app oTree survey with the same number of pages
(stock templates, Bootstrap and all) as the baseline, and prints our throughput as a
ratio of it. Reports page turns and requests per second, p50/p95/p99 latency, errors, answers lost
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
from student import INLINE_REQUEST_HEADER, PAGE_URL_HEADER, choose_answers, parse, url_part  # noqa: E402

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

    def __init__(self, start_url: str, *, programme: str, seed: int, sink: list, inline: bool = False):
        self.start_url, self.programme, self.sink = start_url, programme, sink
        self.inline = inline  # as survey.js: ask for the next page in the answer to the POST
        self.rng = random.Random(seed)
        self.url, self.html, self.status = "", "", 0
        self.http: aiohttp.ClientSession | None = None

    page = property(lambda self: url_part(self.url, "page"))
    code = property(lambda self: url_part(self.url, "code"))

    async def _send(self, method: str, url: str, data: dict | None, *, retry: bool = True):
        start = time.perf_counter()
        headers = {INLINE_REQUEST_HEADER: "1"} if self.inline and method == "POST" else None
        try:
            async with self.http.request(method, url, data=data, allow_redirects=False, headers=headers,
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
            shown = response.headers.get(PAGE_URL_HEADER)  # the next page came with the answer
            self.url = urllib.parse.urljoin(url, shown) if shown else url
            self.html, self.status = body, response.status
            return
        raise RuntimeError(f"too many redirects from {url}")

    async def walk(self, *, think, barrier: "Phaser | None", sent: dict) -> None:
        """Walk the survey. think: None, or a function (page turn number, items on the page,
        the random generator) giving the seconds spent reading before answering."""
        jar = aiohttp.CookieJar(unsafe=True)  # the server is an IP address; a browser keeps its cookies
        async with aiohttp.ClientSession(cookie_jar=jar, connector=aiohttp.TCPConnector(limit=1)) as self.http:
            await self.request("GET", self.start_url)
            for turn in range(30):
                if self.page in ("Finished", "End", ""):
                    return
                if think:
                    await asyncio.sleep(think(turn, len(parse(self.html).radios), self.rng))
                if barrier is not None:
                    await barrier.wait()
                before = self.url
                data = choose_answers(self.html, self.page, self.rng, programme=self.programme)
                start = time.perf_counter()
                await self.request("POST", before, data)
                self.sink.append(("turn", time.perf_counter() - start))  # tap on Next to the next page
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


# The page turn at which our survey shows the vignette (consent, about you, motivation,
# programme, then the vignette), and the pages with one scale each after it.
VIGNETTE_TURN = 4
SCALE_TURNS = range(5, 9)


def fast_reading(turn: int, items: int, rng: random.Random) -> float:
    """The fast class: 3–15 s on every page."""
    return rng.uniform(3, 15)


def realistic_reading(time_scale: float):
    """The realistic class, reading times from the instrument: the vignette 30–90 s, each
    item of a scale page 3–8 s, every other page 5–15 s; all multiplied by `time_scale`
    (1: real time, about 3½ minutes of reading a student; 0.1: the same class ten times faster).
    The stock baseline reads by the same page positions (its scale pages have 3 items)."""
    def reading(turn: int, items: int, rng: random.Random) -> float:
        if turn == VIGNETTE_TURN:
            seconds = rng.uniform(30, 90)
        elif turn in SCALE_TURNS:
            seconds = sum(rng.uniform(3, 8) for _ in range(max(items, 1)))
        else:
            seconds = rng.uniform(5, 15)
        return seconds * time_scale
    return reading


async def run_phones(url: str, n: int, scenario: str, arrival: float, seed: int, *, inline: bool = False,
                     time_scale: float = 1.0) -> dict:
    latencies: list = []
    sent: dict = collections.defaultdict(dict)
    barrier = Phaser(n) if scenario == "burst" else None
    think = dict(burst=None, **{"class": fast_reading}, real=realistic_reading(time_scale))[scenario]
    if scenario == "real":
        arrival *= time_scale

    async def one(i):
        phone = Phone(url, programme=PROGRAMMES[i % 5], seed=seed * 1000 + i, sink=latencies, inline=inline)
        if scenario != "burst":
            await asyncio.sleep(arrival * i / n)
        try:
            await phone.walk(think=think, barrier=barrier, sent=sent)
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
    turns = sorted(t for status, t in latencies if status == "turn")
    reconnects = sum(1 for status, _ in latencies if status == "reconnect")
    latencies = [x for x in latencies if x[0] not in ("reconnect", "turn")]
    errors = len(failed) + sum(1 for status, _ in latencies if status == "error")
    q = statistics.quantiles(times, n=100) if len(times) >= 2 else [float("nan")] * 99
    qt = statistics.quantiles(turns, n=100) if len(turns) >= 2 else [float("nan")] * 99
    return dict(requests=len(latencies), seconds=elapsed, rps=len(latencies) / elapsed, errors=errors,
                p50=q[49] * 1000, p95=q[94] * 1000, p99=q[98] * 1000, sent=sent,
                turns=len(turns), tps=len(turns) / elapsed,
                turn_p50=qt[49] * 1000, turn_p95=qt[94] * 1000, turn_p99=qt[98] * 1000,
                finished=n - len(failed), reconnects=reconnects,
                generator_cpu=generator_cpu)


def run_scenario(url: str, n: int, scenario: str, arrival: float, seed: int, **options) -> dict:
    return asyncio.run(run_phones(url, n, scenario, arrival, seed, **options))


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
            seed: int, check: bool, **options) -> dict:
    server = Server(folder, env=env).start()
    try:
        session = server.create_session(config, n)
        result = run_scenario(session["session_wide_url"], n, scenario, arrival, seed, **options)
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
    parser.add_argument("--scenarios", default="burst,class",
                        help="burst, class (the fast class: 3–15 s a page), real (the realistic class)")
    parser.add_argument("--arrival", type=float, default=60.0, help="class scenarios: arrivals spread over seconds")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="real scenario: reading times and arrivals multiplied by this (0.1 = ten times faster)")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="sqlite, postgresql, pgproxy (PostgreSQL behind delay_proxy.py: 'on another host')")
    parser.add_argument("--proxy-delay-ms", type=float, default=0.5, help="pgproxy: delay added each way")
    parser.add_argument("--no-inline", action="store_true",
                        help="our phones do not ask for the next page inline (oTree's redirect, as without JS)")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"),
                        help="a PostgreSQL admin URL; default: a throw-away server of the benchmark's own")
    args = parser.parse_args(argv)
    if args.postgres or not {"postgresql", "pgproxy"} & set(args.databases.split(",")):
        return run(args)
    with ThrowawayPostgres(durable=True) as pg:  # fsync on, as a real server
        args.postgres = pg.url
        return run(args)


def run(args) -> int:
    """Every scenario and database of `args` (see `main`); prints the table, returns the exit code.

    args: the parsed command line.
    """
    proxy = None
    if "pgproxy" in args.databases.split(","):
        proxy = DelayProxy(args.postgres, args.proxy_delay_ms)
    try:
        return _run(args, proxy)
    finally:
        if proxy:
            proxy.stop()


class DelayProxy:
    """`delay_proxy.py` in a process of its own, in front of the PostgreSQL server of `admin_url`."""

    def __init__(self, admin_url: str, delay_ms: float):
        import subprocess

        target = urllib.parse.urlsplit(admin_url)
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "delay_proxy.py"), "--target", f"{target.hostname}:{target.port}",
             "--delay-ms", str(delay_ms)], stdout=subprocess.PIPE, text=True)
        self.banner = self.proc.stdout.readline().strip()  # "listening on host:port delay … measured …"
        print("proxy:", self.banner, flush=True)
        self.port = int(self.banner.split()[2].rsplit(":", 1)[1])

    def url(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by the proxy's."""
        parts = urllib.parse.urlsplit(database_url)
        netloc = parts.netloc.rsplit("@", 1)
        netloc[-1] = f"127.0.0.1:{self.port}"
        return urllib.parse.urlunsplit(parts._replace(netloc="@".join(netloc)))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def _run(args, proxy: "DelayProxy | None") -> int:
    rows = []
    options = dict(time_scale=args.time_scale)

    def database_url(database: str) -> str | None:
        url = fresh_postgres(args.postgres)
        return proxy.url(url) if url and database == "pgproxy" else url

    for scenario in args.scenarios.split(","):
        for database in args.databases.split(","):
            results, stock_results = [], []
            for run in range(args.runs):
                with tempfile.TemporaryDirectory() as tmp:
                    tmp = pathlib.Path(tmp)
                    env = {}
                    if database in ("postgresql", "pgproxy"):
                        url = database_url(database)
                        if url is None:
                            print(f"skipping PostgreSQL: not reachable at {args.postgres}")
                            break
                        env["DATABASE_URL"] = url
                    ours = measure("ours", copy_project(tmp / "ours"), env, "classroom", args.students, scenario,
                                   args.arrival, seed=run + 1, check=True, inline=not args.no_inline, **options)
                    if database in ("postgresql", "pgproxy"):
                        env["DATABASE_URL"] = database_url(database)
                    write_stock_project(tmp / "stock")
                    stock = measure("stock", tmp / "stock", env, "stock", args.students, scenario, args.arrival,
                                    seed=run + 1, check=False, **options)
                results.append(ours)
                stock_results.append(stock)
                print(f"{scenario:5} {database:10} run {run + 1}: ours {ours['tps']:.1f} turns/s "
                      f"turn p95 {ours['turn_p95']:.0f} ms ({ours['rps']:.1f} req/s, request p95 {ours['p95']:.0f} ms) "
                      f"errors {ours['errors']} lost {ours['lost']} "
                      f"reconnects {ours['reconnects']} balance {max(ours['balance'].values(), default=0)} "
                      f"phones' CPU {ours['generator_cpu']:.0%} of a core | "
                      f"stock {stock['tps']:.1f} turns/s turn p95 {stock['turn_p95']:.0f} ms "
                      f"({stock['rps']:.1f} req/s, request p95 {stock['p95']:.0f} ms) errors {stock['errors']}",
                      flush=True)
            if not results:
                continue
            med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
            rows.append(dict(
                scenario=scenario, database=database, runs=len(results),
                rps=med(results, "rps"), p50=med(results, "p50"), p95=med(results, "p95"), p99=med(results, "p99"),
                tps=med(results, "tps"), turn_p50=med(results, "turn_p50"), turn_p95=med(results, "turn_p95"),
                turn_p99=med(results, "turn_p99"), stock_tps=med(stock_results, "tps"),
                stock_turn_p95=med(stock_results, "turn_p95"),
                errors=sum(r["errors"] for r in results), lost=sum(r["lost"] for r in results),
                balance=max(max(r["balance"].values(), default=0) for r in results),
                stock_rps=med(stock_results, "rps"), stock_p95=med(stock_results, "p95"),
                stock_errors=sum(r["errors"] for r in stock_results),
            ))
    if ERROR_SAMPLES:
        print("first errors:", *sorted(set(ERROR_SAMPLES))[:10], sep="\n  ")
    print()
    print(f"{args.students} students, median of runs; a page turn is the tap on Next until the next page is "
          f"in (ours: {'oTree redirect' if args.no_inline else 'one request'}; stock: POST and redirected GET); "
          f"ratio = our page turns/s ÷ stock's in the same run")
    print("| scenario | database | runs | turns/s | turn p50 ms | turn p95 ms | turn p99 ms | req/s | request p95 ms | "
          "errors | lost answers | largest cell difference | stock turns/s | stock turn p95 ms | stock req/s | "
          "stock request p95 ms | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['scenario']} | {r['database']} | {r['runs']} | {r['tps']:.1f} | {r['turn_p50']:.0f} | "
              f"{r['turn_p95']:.0f} | {r['turn_p99']:.0f} | {r['rps']:.1f} | {r['p95']:.0f} | {r['errors']} | "
              f"{r['lost']} | {r['balance']} | {r['stock_tps']:.1f} | {r['stock_turn_p95']:.0f} | "
              f"{r['stock_rps']:.1f} | {r['stock_p95']:.0f} | {r['tps'] / r['stock_tps']:.2f} |")
    return 0 if all(r["errors"] == 0 and r["lost"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
