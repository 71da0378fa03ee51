"""``mechsolve serve`` as a real process for tests: its log (a file, never a pipe that could
fill), and the memory and CPU time of its whole process tree (server, forkserver, solve
workers and their children) read from ``/proc``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mechsolve.server.app import free_port

MECHSOLVE = [sys.executable, "-m", "mechsolve"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def health(address: str, *extra: str) -> int:
    """``mechsolve health`` against ``address``: its exit code."""
    return subprocess.run(
        [*MECHSOLVE, "health", "--address", address, "--time-limit", "1", *extra],
        capture_output=True,
    ).returncode


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from `state` on (the name may hold spaces)


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def process_rss(pid: int) -> int:
    """Resident bytes of one process (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class ServerProcess:
    """One ``mechsolve serve --port P ARGS...`` process; ``log_path`` holds its stderr."""

    def __init__(self, args: tuple[str, ...], log_path: Path, wait: bool = True) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen(
                [*MECHSOLVE, "serve", "--port", str(self.port), *args],
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )
        if wait:
            self.wait_serving()

    def wait_serving(self, timeout: float = 60.0, *health_args: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.proc.poll() is None, self.log()
            if health(self.address, *health_args) == 0:
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.address} never served:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text()

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The JSON log lines (those named ``name``)."""
        out = [json.loads(line) for line in self.log().splitlines() if line.startswith("{")]
        return [e for e in out if name is None or e["event"] == name]

    def tree(self) -> list[int]:
        return descendants(self.proc.pid)

    def rss_bytes(self) -> int:
        """Resident memory of the whole process tree."""
        return sum(process_rss(p) for p in self.tree())

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the live processes of the tree have used."""
        ticks = 0
        for p in self.tree():
            if (fields := _stat(p)) is not None:
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / CLOCK_TICKS

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            for pid in reversed(self.tree()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.wait()
