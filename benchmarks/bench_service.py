"""gRPC service benchmark: a 2-player 3-action Pareto query, measured side by side in one run.

The server runs as its own process (``mechsolve serve``), like a deployment; the clients run
here. Prints, for sequential calls and for 32 calls in flight: calls per second, p50 and p99
latency, and the ratio to the in-process call; then the batch method's profiles per second.

Run: ``python benchmarks/bench_service.py [--calls 3000] [--workers 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import numpy as np
from google.protobuf.message import Message

from mechsolve.api.mediators import RPCS
from mechsolve.client import AsyncMechsolveClient, MechsolveClient
from mechsolve.codec import encode_request
from mechsolve.server.app import free_port
from mechsolve.solver.games.normal_form import random_game
from mechsolve.solver.mediators.deterministic import mediate_batch, pareto_mediator
from mechsolve.v1 import mediators_pb2_grpc as mgrpc

GAME = random_game([3, 3], seed=0)
ACTIONS, DELEGATE = [1, 2], [1, 1]
MEDIATE = next(rpc for rpc in RPCS if rpc.name == "Mediate")


def raw_request() -> Message:
    """The MediateRequest the typed client sends for the Pareto query."""
    return encode_request(
        MEDIATE,
        {"game": GAME, "actions": ACTIONS, "delegate": [True, True], "mediator": "pareto"},
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def stats(lat: list[float], wall: float) -> str:
    a = np.asarray(lat) * 1e3
    return f"{len(a) / wall:9,.0f} calls/s   p50 {np.percentile(a, 50):6.3f} ms   p99 {np.percentile(a, 99):6.3f} ms"


def timed_loop(fn, n: int) -> tuple[list[float], float]:
    lat = []
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        fn()
        lat.append(time.perf_counter() - t)
    return lat, time.perf_counter() - t0


async def inflight(address: str, n: int, concurrency: int, raw: bool) -> tuple[list[float], float]:
    lat: list[float] = []
    async with AsyncMechsolveClient(address) as client:
        stub = mgrpc.MediatorServiceStub(client._channel)
        req = raw_request()
        await client.pareto_mediator(GAME, ACTIONS, DELEGATE)
        sem = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with sem:
                t = time.perf_counter()
                if raw:
                    await stub.Mediate(req, timeout=10)
                else:
                    await client.pareto_mediator(GAME, ACTIONS, DELEGATE)
                lat.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        await asyncio.gather(*[one() for _ in range(n)])
        return lat, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=1, help="server processes (SO_REUSEPORT)")
    ap.add_argument("--batch-profiles", type=int, default=200_000)
    args = ap.parse_args()

    port = free_port()
    address = f"127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mechsolve",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        with MechsolveClient(address) as client:
            client.wait_until_serving(time_limit=60)
            for _ in range(200):  # warm up
                client.pareto_mediator(GAME, ACTIONS, DELEGATE)
            local_lat, local_wall = timed_loop(
                lambda: pareto_mediator(GAME, ACTIONS, DELEGATE), args.calls
            )
            seq_lat, seq_wall = timed_loop(
                lambda: client.pareto_mediator(GAME, ACTIONS, DELEGATE), args.calls
            )
            stub = mgrpc.MediatorServiceStub(client._channel)
            req = raw_request()
            raw_lat, raw_wall = timed_loop(lambda: stub.Mediate(req, timeout=10), args.calls)

            rng = np.random.default_rng(0)
            acts = np.stack([rng.integers(0, 3, args.batch_profiles) for _ in range(2)], axis=1)
            dele = rng.random((args.batch_profiles, 2)) < 0.5
            client.mediate_batch(GAME, acts[:1000], dele[:1000])
            t0 = time.perf_counter()
            client.mediate_batch(GAME, acts, dele)
            batch_wall = time.perf_counter() - t0
            t0 = time.perf_counter()
            mediate_batch(GAME, acts, dele)
            batch_local = time.perf_counter() - t0
        par_lat, par_wall = asyncio.run(inflight(address, args.calls, 32, raw=False))
        cpu0 = cpu_seconds(server.pid)
        praw_lat, praw_wall = asyncio.run(inflight(address, args.calls, 32, raw=True))
        server_cpu = (cpu_seconds(server.pid) - cpu0) / args.calls
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    local_mean = local_wall / args.calls
    print(
        f"== gRPC service: 2-player 3-action Pareto query, {args.calls} calls, {args.workers} server process(es) =="
    )
    print(f"in-process pareto_mediator      {stats(local_lat, local_wall)}")
    print(
        f"sequential, typed client        {stats(seq_lat, seq_wall)}   ratio to in-process {seq_wall / args.calls / local_mean:5.1f}x"
    )
    print(
        f"sequential, raw stub            {stats(raw_lat, raw_wall)}   ratio to in-process {raw_wall / args.calls / local_mean:5.1f}x"
    )
    print(
        f"32 in flight, typed async       {stats(par_lat, par_wall)}   ratio to in-process {par_wall / args.calls / local_mean:5.1f}x"
    )
    print(
        f"32 in flight, raw async stub    {stats(praw_lat, praw_wall)}   ratio to in-process {praw_wall / args.calls / local_mean:5.1f}x"
    )
    print(
        f"server CPU per call (32 in flight) {server_cpu * 1e6:6.0f} us  (all server threads: the event "
        "loop, gRPC's own threads and the solve pool; the load generator shares this machine's cores)"
    )
    print(
        f"batch over gRPC                 {args.batch_profiles / batch_wall:9,.0f} profiles/s ({args.batch_profiles:,} profiles in {batch_wall:.3f} s)"
    )
    print(
        f"batch in-process                {args.batch_profiles / batch_local:9,.0f} profiles/s   ratio gRPC/in-process {batch_wall / batch_local:5.2f}x"
    )
    print("goals: >= 2,000 calls/s per server process, p99 <= 5 ms, batch >= 50,000 profiles/s")


if __name__ == "__main__":
    _ = grpc  # the benchmark talks gRPC through the clients
    main()
