"""Server configuration: one frozen dataclass, filled from ``mechsolve serve`` flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits


@dataclass(frozen=True)
class ServerConfig:
    """How ``mechsolve serve`` runs.

    Attributes:
        host, port: where to listen (loopback by default; port 0 picks a free port).
        workers: server processes sharing the port with SO_REUSEPORT (supervised: one that
            dies is restarted).
        solvers: solve worker processes per server process (every request not answered
            inline runs in one; killed at the call's deadline or when the caller cancels).
        call_memory_mb: the address space each solve may add to its worker (``RLIMIT_AS``);
            the server's solves together stay under ``solvers x call_memory_mb``.
        max_concurrent_rpcs: mechsolve calls in flight per process before
            ``RESOURCE_EXHAUSTED`` (health checks and reflection are never refused).
        max_message_bytes: largest request or response message.
        max_pending_mb: request bytes the process may hold for calls in flight (waiting for a
            solve worker or being solved); a call that would go past it is
            ``RESOURCE_EXHAUSTED``. The server process's memory stays within its idle size
            plus this.
        max_solve_seconds: a cap on every solve's time limit (the call deadline may lower it).
        limits: problem-size limits passed to every solver call (``max_threads`` is lowered to
            the server's share of its CPUs: :attr:`solver_limits`).
        pyomo_solvers: the Pyomo solver names requests may use with ``method="pyomo"`` (a name
            such as ``asl:x`` would run an executable, so only these are allowed).
        tls_cert, tls_key: server certificate and key (PEM files) to serve TLS.
        tls_client_ca: CA bundle (PEM) to require and verify client certificates (mutual TLS).
        auth_tokens: accepted bearer tokens (empty: no authentication). Health checks and
            reflection stay open so that probes need no secret.
        grace_seconds: how long shutdown waits for in-flight calls.
        log_format: ``"json"`` (one object per line) or ``"text"``.
        log_level: ``"DEBUG"``, ``"INFO"``, ...
        metrics_port: serve Prometheus metrics on this HTTP port (``None``: off; 0: a free one).
        insecure: allow listening beyond loopback without TLS and tokens (else refused).
        reuse_port: let another process bind the same port (SO_REUSEPORT; ``--workers`` sets it
            for its own processes).
    """

    host: str = "127.0.0.1"
    port: int = 50051
    workers: int = 1
    solvers: int = 2
    call_memory_mb: int = 4096
    max_concurrent_rpcs: int = 256
    max_message_bytes: int = 64 * 1024 * 1024
    max_pending_mb: int = 512
    max_solve_seconds: float = 60.0
    limits: Limits = field(default_factory=Limits)
    pyomo_solvers: tuple[str, ...] = ("appsi_highs",)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    auth_tokens: tuple[str, ...] = ()
    grace_seconds: float = 30.0
    log_format: str = "json"
    log_level: str = "INFO"
    metrics_port: int | None = None
    insecure: bool = False
    reuse_port: bool = False

    def __post_init__(self) -> None:
        fn = "ServerConfig"
        if not 0 <= self.port <= 65535:
            raise MechsolveInputError(fn, "port", f"must be in [0, 65535]; got {self.port}")
        for name in (
            "workers",
            "solvers",
            "call_memory_mb",
            "max_concurrent_rpcs",
            "max_message_bytes",
            "max_pending_mb",
        ):
            if getattr(self, name) < 1:
                raise MechsolveInputError(fn, name, f"must be >= 1; got {getattr(self, name)}")
        if self.max_solve_seconds <= 0:
            raise MechsolveInputError(
                fn, "max_solve_seconds", f"must be > 0; got {self.max_solve_seconds}"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise MechsolveInputError(fn, "tls_cert", "and tls_key must be given together")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise MechsolveInputError(
                fn, "tls_client_ca", "requires tls_cert and tls_key (mutual TLS)"
            )
        for name in ("tls_cert", "tls_key", "tls_client_ca"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise MechsolveInputError(fn, name, f"must be a readable file; got {str(path)!r}")
        if self.log_format not in ("json", "text"):
            raise MechsolveInputError(
                fn, "log_format", f"must be 'json' or 'text'; got {self.log_format!r}"
            )
        if not self.loopback and not self.tls and not self.auth_tokens and not self.insecure:
            raise MechsolveInputError(
                fn,
                "host",
                f"is {self.host!r}, reachable from other machines, with neither TLS nor tokens: "
                "give --tls-cert/--tls-key or tokens, or --insecure to serve it anyway",
            )

    @property
    def loopback(self) -> bool:
        """True when only this machine can connect."""
        return self.host in ("127.0.0.1", "localhost", "::1", "[::1]") or self.host.startswith(
            "127."
        )

    @property
    def solver_limits(self) -> Limits:
        """What every solve is limited to: the size limits, the allowed Pyomo solvers and the
        threads of one solve (``limits.max_threads`` lowered to the server's share of its CPUs,
        ``cpus // (workers x solvers)`` and at least 1, so that its solves running together do
        not oversubscribe them)."""
        share = max(1, len(os.sched_getaffinity(0)) // (self.workers * self.solvers))
        threads = min(self.limits.max_threads, share)
        return replace(self.limits, pyomo_solvers=self.pyomo_solvers, max_threads=threads)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None
