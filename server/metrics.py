"""What the server tells about its calls: a structured log line per failed call (every call at
DEBUG), an ``rpc_stats`` summary per method and status every ``stats_seconds``, and Prometheus
metrics (prometheus-client) served on an opt-in HTTP port: calls by method and status,
latency histograms, calls in flight, solve workers replaced, and the process' memory."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import prometheus_client as prom

from .logs import log

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
)


class Metrics:
    """Per-server metrics (their own registry: several servers may share a process)."""

    def __init__(self, stats_seconds: float = 10.0) -> None:
        self.registry = prom.CollectorRegistry()
        self.calls = prom.Counter(
            "mechsolve_calls",
            "Finished calls by method and status code",
            ["method", "code"],
            registry=self.registry,
        )
        self.latency = prom.Histogram(
            "mechsolve_call_seconds",
            "Call latency by method",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = prom.Gauge(
            "mechsolve_calls_in_flight", "Calls being answered", registry=self.registry
        )
        self.replaced = prom.Counter(
            "mechsolve_solvers_replaced",
            "Solve workers killed (deadline, cancel, crash) and replaced",
            registry=self.registry,
        )
        self.solve = prom.Histogram(
            "mechsolve_solve_seconds",
            "Time spent solving (inline or in a solve worker, waiting for one included)",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.solver_memory = prom.Gauge(
            "mechsolve_solver_resident_memory_bytes",
            "Resident memory of the solve worker processes, summed",
            registry=self.registry,
        )
        prom.ProcessCollector(registry=self.registry)  # memory, CPU, open files of this process
        self._every = stats_seconds
        self._since = time.monotonic()
        self._ms: dict[tuple[str, str], list[float]] = {}

    def serve(self, port: int, host: str) -> int:
        """Serve ``/metrics`` over HTTP; returns the port (0 picks a free one)."""
        server, _ = prom.start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_port)

    def done(self, method: str, code: str, seconds: float, context: Any) -> None:
        """Account for one finished call (any outcome)."""
        self.calls.labels(method, code).inc()
        self.latency.labels(method).observe(seconds)
        ms = seconds * 1e3
        level = logging.DEBUG if code == "OK" else logging.INFO
        log("rpc", level, method=method, code=code, ms=round(ms, 3), peer=context.peer())
        self._ms.setdefault((method, code), []).append(ms)
        if time.monotonic() - self._since >= self._every:
            self.flush()

    def flush(self) -> None:
        """Write the ``rpc_stats`` lines gathered since the last ones."""
        for (method, code), values in sorted(self._ms.items()):
            arr = np.asarray(values)
            log(
                "rpc_stats",
                method=method,
                code=code,
                calls=len(values),
                p50_ms=round(float(np.percentile(arr, 50)), 3),
                p99_ms=round(float(np.percentile(arr, 99)), 3),
                seconds=round(time.monotonic() - self._since, 1),
            )
        self._ms.clear()
        self._since = time.monotonic()
