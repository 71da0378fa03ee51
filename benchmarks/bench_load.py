"""Load benchmark: many clients, small Pareto queries, against ``mechsolve serve`` with 1, 2
and N server processes (``--workers``), measured one after the other in one run.

Each client is its own gRPC channel keeping one call in flight (closed loop), sending the
pre-serialized MediateRequest of a 2-player 3-action game (the load generator spends as
little as it can per call). Clients are spread over ``--load-processes`` processes; they share
the machine's cores with the server (say so when reading the numbers). Every answer is
checked equal to the in-process answer.

Per call, the server's time is split into what the solver stack costs in-process (parse,
decode, solve, encode: :func:`mechsolve.server.servicer.answer_bytes`) and the rest (gRPC,
the event loop, admission, metrics and logging), from the server's CPU time.

The first line is the floor: a bare grpc.aio server answering with the precomputed bytes, the
strongest baseline (what gRPC itself costs here).

Run: ``python benchmarks/bench_load.py [--clients 64] [--seconds 10] [--workers 1 2 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import numpy as np

if __package__ in (None, ""):  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import AnswersDiffer, Case, CaseOutput, Context, Curve, Skip, plot_curve
from mechsolve.api.declare import Rpc
from mechsolve.api.mediators import RPCS
from mechsolve.codec import encode_request
from mechsolve.server.app import free_port
from mechsolve.server.servicer import answer_bytes
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.games.normal_form import random_game

GAME = random_game([3, 3], seed=0)
MEDIATE = next(rpc for rpc in RPCS if isinstance(rpc, Rpc) and rpc.name == "Mediate")
REQUEST = encode_request(
    MEDIATE, {"game": GAME, "actions": [1, 2], "delegate": [True, True]}
).SerializeToString()


def expected_answer() -> bytes:
    answer = answer_bytes(MEDIATE.path, REQUEST, Limits(), 10.0)
    assert answer.payload is not None
    return answer.payload


def _same(a: bytes, b: bytes) -> bool:
    """The same result, timings aside (they differ per call)."""
    ra: Any = MEDIATE.response.FromString(a)
    rb: Any = MEDIATE.response.FromString(b)
    for r in (ra, rb):
        r.result.info.ClearField("wall_time_s")
    return bool(ra == rb)


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and every live process below it."""
    total, todo = 0.0, [pid]
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def _clients(
    address: str, clients: int, seconds: float, warmup: float, rate: float | None
) -> Any:
    channels = [grpc.aio.insecure_channel(address) for _ in range(clients)]
    calls = [ch.unary_unary(MEDIATE.path) for ch in channels]
    lat: list[float] = []
    errors: dict[str, int] = {}
    sample: list[bytes] = []
    start = time.perf_counter()
    measure_from, end = start + warmup, start + warmup + seconds

    async def client(call: Any, offset: float) -> None:
        due = start + offset  # open loop: calls are due on a schedule, latency counted from it
        while (now := time.perf_counter()) < end:
            if rate is not None:
                due += clients / rate
                await asyncio.sleep(max(0.0, due - now))
                now = due
            try:
                answer = await call(REQUEST, timeout=10)
            except grpc.aio.AioRpcError as exc:
                errors[exc.code().name] = errors.get(exc.code().name, 0) + 1
                continue
            if now >= measure_from:
                lat.append(time.perf_counter() - now)
                if len(sample) < 20:
                    sample.append(answer)

    spread = [i / (rate or 1.0) for i in range(len(calls))]
    await asyncio.gather(*(client(c, o) for c, o in zip(calls, spread, strict=True)))
    for ch in channels:
        await ch.close()
    return lat, errors, sample


def _load_process(
    address: str, clients: int, seconds: float, warmup: float, rate: float | None, out: Any
) -> None:
    out.send(asyncio.run(_clients(address, clients, seconds, warmup, rate)))


def run_load(
    address: str,
    clients: int,
    processes: int,
    seconds: float,
    warmup: float,
    rate: float | None = None,
) -> Any:
    """``clients`` channels over ``processes`` processes: closed loop (one call in flight
    each) or, with ``rate``, open loop (calls due at ``rate`` per second in all)."""
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for i in range(processes):
        share = clients // processes + (1 if i < clients % processes else 0)
        share_rate = None if rate is None else rate * share / clients
        parent, child = ctx.Pipe()
        p = ctx.Process(
            target=_load_process, args=(address, share, seconds, warmup, share_rate, child)
        )
        p.start()
        pipes.append(parent)
        procs.append(p)
    lat: list[float] = []
    errors: dict[str, int] = {}
    sample: list[bytes] = []
    for pipe in pipes:
        l_, e_, s_ = pipe.recv()
        lat += l_
        sample += s_
        for k, v in e_.items():
            errors[k] = errors.get(k, 0) + v
    for p in procs:
        p.join()
    return lat, errors, sample


async def _echo_server(port: int) -> None:
    """The floor: a bare grpc.aio server answering every Mediate call with the precomputed
    answer (no parsing, solving, admission, metrics or logging)."""
    answer = expected_answer()

    async def mediate(request: bytes, context: Any) -> bytes:
        return answer

    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(mediate)
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("mechsolve.v1.MediatorService", {"Mediate": handler})]
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def start_server(workers: int, solvers: int, echo: bool = False) -> tuple[subprocess.Popen, str]:
    port = free_port()
    address = f"127.0.0.1:{port}"
    if echo:
        proc = subprocess.Popen([sys.executable, __file__, "--echo-server", str(port)])
        time.sleep(3.0)
        return proc, address
    args = ["serve", "--port", str(port), "--workers", str(workers), "--solvers", str(solvers)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mechsolve", *args, "--log-level", "WARNING"],
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        ok = subprocess.run(
            [sys.executable, "-m", "mechsolve", "health", "--address", address],
            capture_output=True,
        )
        if ok.returncode == 0:
            return proc, address
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def in_process_cost(n: int = 3000) -> float:
    """Seconds per call of parse + decode + solve + encode, in this process."""
    limits = Limits()
    for _ in range(200):
        answer_bytes(MEDIATE.path, REQUEST, limits, 10.0)
    t0 = time.perf_counter()
    for _ in range(n):
        answer_bytes(MEDIATE.path, REQUEST, limits, 10.0)
    return (time.perf_counter() - t0) / n


# --------------------------------------------------------------------------------------------
# The suite: median latency against the number of clients (closed loop)
# --------------------------------------------------------------------------------------------
def _clients_curve(ctx: Context) -> CaseOutput:
    """Median call latency against clients (1 to 64, one call in flight each) for
    ``mechsolve serve --workers 1`` and the bare grpc.aio echo server (the floor), measured
    point by point alternating the two servers; every sampled answer checked."""
    if ctx.quick:
        raise Skip("a load test (server processes, seconds per point): full run only")
    counts = [1, 4, 16, 64]
    expected = expected_answer()
    names = ["mechsolve serve --workers 1 (ours)", "bare grpc.aio echo (floor)"]
    servers = [start_server(1, 1), start_server(0, 1, echo=True)]
    series: dict[str, list[float]] = {n: [] for n in names}
    try:
        for c in counts:
            for name, (_, address) in zip(names, servers, strict=True):
                lat, errors, sample = run_load(address, c, min(2, c), 2.0, 0.5)
                if not sample or not all(_same(x, expected) for x in sample):
                    raise AnswersDiffer(f"{name} at {c} clients: answers differ")
                series[name].append(float(np.median(lat)))
                ctx.note(
                    f"{name}, {c} clients: {len(lat) / 2.0:,.0f} calls/s, p50 "
                    f"{np.median(lat) * 1e3:.2f} ms, p99 {np.percentile(lat, 99) * 1e3:.2f} ms"
                    f"{', errors ' + str(errors) if errors else ''}"
                )
    finally:
        for proc, _ in servers:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    curve = Curve("gRPC load (median latency)", "clients", [float(c) for c in counts], series)
    plot_curve(curve, ctx.out_dir / "grpc_load.png")
    curve.plot = "grpc_load.png"
    return [curve]


SUITE_CASES = [
    Case(
        "load.clients",
        "median latency against clients (1-64), mechsolve serve vs the bare gRPC floor",
        _clients_curve,
    ),
]
SUITE_SCRIPT = True  # the full suite also runs this module as a script


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--workers", type=str, nargs="+", default=["1", "2", str(os.cpu_count() or 2)])
    ap.add_argument("--solvers", type=int, default=1, help="solve worker processes per server")
    ap.add_argument("--load-processes", type=int, default=2)
    ap.add_argument(
        "--rates",
        type=float,
        nargs="*",
        default=[1000.0, 1500.0],
        help="open-loop offered loads (calls/s) to measure latency at (after the closed loop)",
    )
    ap.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.echo_server:
        asyncio.run(_echo_server(args.echo_server))
        return
    expected = expected_answer()
    stack = in_process_cost()
    print(
        f"== {args.clients} clients, one call in flight each, 2-player 3-action Pareto query, "
        f"{args.seconds:.0f} s per setting; {os.cpu_count()} cores shared with "
        f"{args.load_processes} load processes =="
    )
    print(f"in-process parse + decode + solve + encode: {stack * 1e6:7.1f} us per call")
    floor = 0.0
    for workers in ["floor", *dict.fromkeys(args.workers)]:
        proc, address = start_server(
            0 if workers == "floor" else int(workers), args.solvers, workers == "floor"
        )
        try:
            cpu0 = tree_cpu(proc.pid)
            t0 = time.perf_counter()
            lat, errors, sample = run_load(
                address, args.clients, args.load_processes, args.seconds, args.warmup
            )
            wall = time.perf_counter() - t0
            cpu = tree_cpu(proc.pid) - cpu0
            open_loop = [
                (r, run_load(address, args.clients, args.load_processes, args.seconds, 1.0, r))
                for r in args.rates
            ]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        assert sample and all(_same(s, expected) for s in sample), "answers differ"
        a = np.asarray(lat) * 1e3
        rate = len(a) / args.seconds
        calls_total = rate * wall  # the warm-up's calls used CPU too
        per_call = cpu / calls_total
        label = "bare grpc.aio echo" if workers == "floor" else f"--workers {workers}"
        if workers == "floor":
            floor = per_call
            split = "(gRPC alone)"
        else:
            split = (
                f"= floor {floor * 1e6:4.0f} + stack in-process {stack * 1e6:4.0f} + the rest "
                f"{max(0.0, per_call - floor - stack) * 1e6:4.0f} (cold caches, admission, metrics)"
            )
        print(
            f"{label:18s}: {rate:8,.0f} calls/s   p50 {np.percentile(a, 50):6.2f} ms   "
            f"p99 {np.percentile(a, 99):6.2f} ms   errors {errors or 0}   "
            f"server CPU {per_call * 1e6:5.0f} us/call {split}"
        )
        for r, (lat_r, errors_r, sample_r) in open_loop:
            assert all(_same(x, expected) for x in sample_r), "answers differ"
            a = np.asarray(lat_r) * 1e3
            print(
                f"   offered {r:6,.0f} calls/s: answered {len(a) / args.seconds:6,.0f}/s   "
                f"p50 {np.percentile(a, 50):6.2f} ms   p99 {np.percentile(a, 99):6.2f} ms   "
                f"errors {errors_r or 0}"
            )
    print("goal: >= 2,000 calls/s per server process, p99 < 20 ms at 64 clients")


if __name__ == "__main__":
    main()
