"""``mechsolve batch`` throughput on recorded Pareto profiles of one game, side by side.

The input: N records (default 1,000,000) of a random 3-player 8-action game, each a Mediate
request (random actions and delegate bits) naming the game file, as JSON lines. Each engine
runs the real command (``python -m mechsolve batch``) in its own process tree, sampled from
``/proc`` for its resident memory:

- one process (``--processes 1``), the local pool (every core), Ray on a local instance
  (``--engine ray``), and a mechsolve server (``--address``, the stream RPC; the server is
  another process tree on the same cores);
- the reference a user would otherwise write: one ``mediate_batch`` call on the whole array
  in memory (no files, no per-record results: the solve alone, the floor), and a loop of
  ``LocalMechsolve().mediate`` per record (timed on a sample, scaled).

Every engine's output is checked equal to the one-process output (ids in order; answers
equal on every record, timings aside). The input file is far larger than what any process
holds: the input is streamed.

Run: ``python benchmarks/bench_batch.py [--records 1000000] [--engines single pool ray server]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from bench_faults import Server, rss, rss_one

from mechsolve.batch import iter_rows, same_answer
from mechsolve.client import LocalMechsolve
from mechsolve.solver.games import random_game, write_game
from mechsolve.solver.mediators import mediate_batch

MB = 1 << 20


def write_input(folder: Path, n: int) -> tuple[Path, np.ndarray, np.ndarray]:
    game = random_game([8, 8, 8], seed=2026)
    write_game(game, folder / "game.npz")
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 8, (n, 3))
    delegate = rng.random((n, 3)) < 0.5
    words = np.array(["false", "true"])[delegate.astype(int)]
    path = folder / "profiles.jsonl"
    with path.open("w") as f:
        for i in range(n):
            a, d = actions[i], words[i]
            f.write(
                f'{{"id":{i},"actions":[{a[0]},{a[1]},{a[2]}],"delegate":[{d[0]},{d[1]},{d[2]}]}}\n'
            )
    return path, actions, delegate


class PeakMemory:
    """The largest resident memory of a process tree, and of its root alone, sampled."""

    def __init__(self, pid: int) -> None:
        self.pid, self.tree_peak, self.root_peak = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.tree_peak = max(self.tree_peak, rss(self.pid))
            self.root_peak = max(self.root_peak, rss_one(self.pid))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_engine(source: Path, out: Path, extra: list[str]) -> tuple[float, PeakMemory, str]:
    command = [
        sys.executable,
        "-m",
        "mechsolve",
        "batch",
        str(source),
        str(out),
        "--rpc",
        "Mediate",
        "--game",
        str(source.parent / "game.npz"),
        "--no-progress",
        "--restart",
        *extra,
    ]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    memory = PeakMemory(proc.pid)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    memory.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stdout}\n{stderr}")
    return seconds, memory, stdout.splitlines()[0]


def same_output(a: Path, b: Path) -> tuple[bool, int]:
    n = 0
    for x, y in zip(iter_rows(a), iter_rows(b), strict=True):
        if not same_answer(x, y):
            return False, n
        n += 1
    return True, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--engines",
        nargs="+",
        default=["single", "pool", "ray", "server"],
        choices=["single", "pool", "ray", "server"],
    )
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        source, actions, delegate = write_input(folder, args.records)
        print(
            f"{args.records:,} records of a 3-player 8-action game, {source.stat().st_size / MB:.0f} MB "
            f"of JSON lines (written in {time.perf_counter() - t0:.1f} s); {cores} cores"
        )

        game = random_game([8, 8, 8], seed=2026)
        t0 = time.perf_counter()
        floor = mediate_batch(game, actions, delegate)
        floor_s = time.perf_counter() - t0
        sample = min(20_000, args.records)
        api = LocalMechsolve()
        t0 = time.perf_counter()
        for i in range(sample):
            api.mediate(game, actions[i], delegate[i])
        loop_s = (time.perf_counter() - t0) * args.records / sample
        print(
            f"reference: one mediate_batch call in memory {floor_s:.2f} s "
            f"({args.records / floor_s:,.0f} profiles/s, no files, no per-record results); "
            f"a LocalMechsolve.mediate loop {loop_s:.0f} s ({args.records / loop_s:,.0f}/s, "
            f"{sample:,} timed)"
        )
        del floor

        runs: dict[str, tuple[float, PeakMemory, Path]] = {}
        server = Server("--solvers", str(cores)) if "server" in args.engines else None
        server_memory = PeakMemory(server.proc.pid) if server is not None else None
        try:
            plans = {
                "single": ["--processes", "1"],
                "pool": ["--processes", str(cores)],
                "ray": ["--engine", "ray"],
                "server": ["--address", server.address, "--processes", str(cores)]
                if server
                else [],
            }
            for name in args.engines:
                out = folder / f"out-{name}.jsonl"
                seconds, memory, line = run_engine(source, out, plans[name])
                runs[name] = (seconds, memory, out)
                print(f"  {name}: {line}")
        finally:
            if server is not None and server_memory is not None:
                server_memory.stop()
                server.stop()
        base = runs[args.engines[0]]
        print()
        print(
            f"| engine | wall s | records/s | vs {args.engines[0]} | peak RSS, all processes | "
            "peak RSS, driver | output equal |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, (seconds, memory, out) in runs.items():
            equal, checked = same_output(base[2], out) if out != base[2] else (True, args.records)
            print(
                f"| {name} | {seconds:.1f} | {args.records / seconds:,.0f} | "
                f"{base[0] / seconds:.2f}x | {memory.tree_peak / MB:,.0f} MB | "
                f"{memory.root_peak / MB:,.0f} MB | {'yes' if equal else 'NO'} ({checked:,}) |"
            )
        if server_memory is not None:
            print(
                f"(the server's own process tree peaked at {server_memory.tree_peak / MB:,.0f} MB)"
            )
        print(
            f"\nwall time includes each command's start-up (imports, pool or Ray start); "
            f"input {source.stat().st_size / MB:.0f} MB, output "
            f"{base[2].stat().st_size / MB:.0f} MB"
        )


if __name__ == "__main__":
    main()
