"""Fault figures of ``mechsolve serve``, measured on real processes:

1. the idle server's memory (server, forkserver, solve workers), and its budget;
2. ``--workers 2``: SIGKILL of one server process -> the supervisor has restarted it ->
   the restarted process answers (its first call through a fresh connection);
3. ``--grace-seconds 2`` with a 20 s solve running: SIGTERM -> the process has exited;
4. a solve killed at its deadline: the time from the deadline to an idle machine (no process
   of the server's tree using CPU) and to the next call answered.

Run: ``python benchmarks/bench_faults.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import numpy as np

from mechsolve.server.app import free_port
from mechsolve.v1 import auctions_pb2 as apb
from mechsolve.v1 import common_pb2 as cpb
from mechsolve.v1 import mediators_pb2 as mpb

MB = 1 << 20
SAMPLED = "/mechsolve.v1.AuctionService/SampledMenuRevenue"
MEDIATE = "/mechsolve.v1.MediatorService/Mediate"


def tensor(a: np.ndarray) -> cpb.Tensor:
    return cpb.Tensor(shape=a.shape, values=a.ravel().tolist())


def heavy() -> bytes:
    """A SampledMenuRevenue request that computes for about 20 s."""
    rng = np.random.default_rng(0)
    menu = apb.Menu(allocation=tensor(rng.random((20_000, 1))), price=tensor(rng.random(20_000)))
    req = apb.SampledMenuRevenueRequest(menu=menu, samples=tensor(rng.random((200_000, 1))))
    return req.SerializeToString()


def small() -> bytes:
    pd = cpb.Game(payoffs=tensor(np.array([[[3, 0], [5, 1]], [[3, 5], [0, 1]]], dtype=np.float64)))
    return mpb.MediateRequest(game=pd, actions=[1, 1], delegate=[True, True]).SerializeToString()


def call(address: str, path: str, payload: bytes, timeout: float) -> str:
    with grpc.insecure_channel(address) as ch:
        try:
            ch.unary_unary(path)(payload, timeout=timeout)
        except grpc.RpcError as exc:
            return str(exc.code().name)
    return "OK"


def tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _field(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def rss_one(pid: int) -> int:
    """Resident bytes of one process (0 once it has gone)."""
    return _field(pid, "VmRSS:")


def rss(pid: int) -> int:
    """Resident bytes of a process and every process below it."""
    return sum(rss_one(p) for p in tree(pid))


def cpu(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        f = stat[stat.rindex(")") + 2 :].split()
        total += int(f[11]) + int(f[12])
    return total / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(suffix=".log")[1])
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mechsolve", "serve", "--port", str(self.port), *args],
                stderr=err,
            )
        self.wait_serving()

    def wait_serving(self, timeout: float = 60) -> float:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if call(self.address, MEDIATE, small(), 1.0) == "OK":
                return time.perf_counter() - t0
            time.sleep(0.01)
        raise SystemExit(f"not serving: {self.log.read_text()}")

    def events(self, name: str) -> list[dict]:
        out = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{") and json.loads(line)["event"] == name:
                out.append(json.loads(line))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.log.unlink()


def idle_memory() -> None:
    srv = Server("--solvers", "2", "--call-memory-mb", "4096")
    call(srv.address, SAMPLED, heavy(), 0.5)  # the workers have started (one was replaced)
    time.sleep(1.0)
    base = rss(srv.proc.pid)
    print(
        f"idle server (2 solve workers): {base / MB:6.0f} MB resident; budget with the defaults "
        f"(--solvers 2 --call-memory-mb 4096): {base / MB + 2 * 4096:6.0f} MB"
    )
    srv.stop()


def worker_restart(repeat: int) -> None:
    srv = Server("--workers", "2", "--solvers", "1")
    for _ in range(repeat):
        pids = [e["pid"] for e in srv.events("serving")][-2:]
        victim = pids[0]
        t0 = time.perf_counter()
        os.kill(victim, signal.SIGKILL)
        seen = len(srv.events("worker_restarted"))
        while len(srv.events("worker_restarted")) == seen:
            time.sleep(0.005)
        restarted = time.perf_counter() - t0
        new_pid = srv.events("worker_restarted")[-1]["pid"]
        while new_pid not in [e["pid"] for e in srv.events("serving")]:
            time.sleep(0.005)
        serving = time.perf_counter() - t0
        print(
            f"--workers 2, SIGKILL of pid {victim}: restarted after {restarted:5.2f} s "
            f"(backoff 0.5 s included), serving again after {serving:5.2f} s"
        )
    srv.stop()


def bounded_shutdown(repeat: int) -> None:
    for _ in range(repeat):
        srv = Server("--grace-seconds", "2", "--solvers", "1")
        t = threading.Thread(target=call, args=(srv.address, SAMPLED, heavy(), 60.0))
        t.start()
        time.sleep(1.5)
        t0 = time.perf_counter()
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=60)
        print(
            f"--grace-seconds 2 with a 20 s solve running: SIGTERM -> exit "
            f"{time.perf_counter() - t0:5.2f} s"
        )
        t.join()
        srv.stop()


def killed_at_deadline(repeat: int) -> None:
    srv = Server("--solvers", "1")
    for _ in range(repeat):
        t0 = time.perf_counter()
        code = call(srv.address, SAMPLED, heavy(), 1.0)
        deadline = time.perf_counter()
        while True:  # idle: less than 10 ms of CPU in a 100 ms window
            c0 = cpu(srv.proc.pid)
            time.sleep(0.1)
            if cpu(srv.proc.pid) - c0 < 0.01:
                break
        idle = time.perf_counter() - deadline - 0.1
        answered = call(srv.address, MEDIATE, small(), 10.0)
        print(
            f"1 s deadline on a 20 s solve: {code} after {deadline - t0:5.2f} s; machine idle "
            f"{max(0.0, idle):5.2f} s after it; next call {answered}"
        )
    srv.stop()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    idle_memory()
    worker_restart(args.repeat)
    bounded_shutdown(args.repeat)
    killed_at_deadline(args.repeat)


if __name__ == "__main__":
    main()
