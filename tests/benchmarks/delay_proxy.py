"""A TCP proxy that delays every packet: PostgreSQL "on another host" for the load benchmark.

    python tests/benchmarks/delay_proxy.py --target 127.0.0.1:5432 --delay-ms 0.5
    # prints "listening on 127.0.0.1:<port>" once ready; point DATABASE_URL at that port

Everything read from one side is written to the other `--delay-ms` later (default 0.5 ms
each way, so at least 1 ms per round trip), in order, per connection and direction, as a
network link of fixed latency and ample bandwidth would. The event loop's own timers
wake on the selector's ~1 ms resolution (Linux epoll), so the last part of each wait is
slept in a worker thread; the script measures the wait it really gets and prints it at
start-up (`measured`), so a report can state the delay actually added. Benchmark tool only, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import time


async def _sleep_until(loop, due: float) -> None:
    """Wait until the loop's clock reads `due`, to a tenth of a millisecond or so: the event
    loop's own timers wake on the selector's ~1 ms resolution, so the last stretch is slept
    in a worker thread (`time.sleep` is precise to tens of microseconds on Linux)."""
    wait = due - loop.time()
    if wait > 0.003:
        await asyncio.sleep(wait - 0.002)
        wait = due - loop.time()
    if wait > 0:
        await loop.run_in_executor(None, time.sleep, wait)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy reader to writer, each chunk `delay` seconds after it was read, in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            await _sleep_until(loop, due)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        try:
            writer.close()
        except Exception:  # noqa: BLE001  (already closed by the other side)
            pass

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
    except (ConnectionError, OSError):
        queue.put_nowait((loop.time(), None))
    await sender


async def serve(listen_host: str, listen_port: int, target_host: str, target_port: int, delay: float,
                ready=None) -> None:
    """Listen, and for each connection open one to the target and pipe both ways with `delay` s.

    listen_host, listen_port: where to listen (port 0: a free one).
    target_host, target_port: the real server.
    delay: seconds added to every chunk, each way.
    ready: called with the listening port once the proxy accepts connections.
    """

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, server_writer, delay), _pipe(server_reader, client_writer, delay),
                             return_exceptions=True)

    server = await asyncio.start_server(handle, listen_host, listen_port)
    port = server.sockets[0].getsockname()[1]
    if ready:
        ready(port)
    async with server:
        await server.serve_forever()


async def measured_delay(delay: float, samples: int = 200) -> float:
    """The median time (s) a wait of `delay` really takes on this machine."""
    loop = asyncio.get_running_loop()
    took = []
    for _ in range(samples):
        start = loop.time()
        await _sleep_until(loop, start + delay)
        took.append(loop.time() - start)
    return sorted(took)[len(took) // 2]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", required=True, help="host:port of the real server")
    parser.add_argument("--listen", default="127.0.0.1:0", help="host:port to listen on (port 0: a free one)")
    parser.add_argument("--delay-ms", type=float, default=0.5, help="added to every packet, each way")
    args = parser.parse_args(argv)
    target_host, target_port = args.target.rsplit(":", 1)
    listen_host, listen_port = args.listen.rsplit(":", 1)
    delay = args.delay_ms / 1000

    async def run():
        took = await measured_delay(delay)
        await serve(listen_host, int(listen_port), target_host, int(target_port), delay,
                    ready=lambda port: print(f"listening on {listen_host}:{port} delay {args.delay_ms} ms "
                                             f"measured {took * 1000:.2f} ms each way", flush=True))

    asyncio.run(run())


if __name__ == "__main__":
    main()
