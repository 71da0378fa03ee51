"""``mechsolve serve`` (run the gRPC server) and ``mechsolve health`` (probe one)."""

from __future__ import annotations

import argparse
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

TOKENS_ENV = "MECHSOLVE_AUTH_TOKENS"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="run the gRPC server",
        description="Run the mechsolve gRPC server (mechsolve.v1, health, reflection) until "
        "SIGTERM/SIGINT, then finish in-flight calls and exit.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback)")
    p.add_argument(
        "--port", type=int, default=50051, help="TCP port; 0 picks a free one (default 50051)"
    )
    p.add_argument(
        "--workers", type=int, default=1, help="server processes sharing the port (SO_REUSEPORT)"
    )
    p.add_argument(
        "--solvers",
        type=int,
        default=2,
        help="solve worker processes per server process (killed at a call's deadline; default 2)",
    )
    p.add_argument(
        "--call-memory-mb",
        type=int,
        default=4096,
        help="address space one solve may add to its worker (RLIMIT_AS; default 4096)",
    )
    p.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus metrics on this HTTP port (off by default; with --workers N, worker "
        "i serves on PORT+i)",
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-loopback --host without TLS and tokens (refused otherwise)",
    )
    p.add_argument(
        "--reuse-port",
        action="store_true",
        help="let other processes bind the same port (SO_REUSEPORT; --workers does it for its own)",
    )
    p.add_argument(
        "--max-concurrent-rpcs",
        type=int,
        default=256,
        help="in-flight calls per process before RESOURCE_EXHAUSTED",
    )
    p.add_argument("--max-message-mb", type=float, default=64.0, help="largest message (MiB)")
    p.add_argument(
        "--max-pending-mb",
        type=int,
        default=512,
        help="request bytes held for calls in flight before RESOURCE_EXHAUSTED (default 512)",
    )
    p.add_argument(
        "--max-solve-seconds",
        type=float,
        default=60.0,
        help="cap on every solve (deadlines may lower it)",
    )
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="problem-size limit, e.g. --limit max_outcomes=1000000 (see `mechsolve serve --list-limits`)",
    )
    p.add_argument(
        "--list-limits", action="store_true", help="print the limits and their defaults, then exit"
    )
    p.add_argument(
        "--pyomo-solver",
        action="append",
        metavar="NAME",
        help="a Pyomo solver requests may name with method=pyomo (repeatable; default appsi_highs "
        "only: a name such as asl:x runs an executable)",
    )
    p.add_argument("--tls-cert", type=Path, help="server certificate (PEM) to serve TLS")
    p.add_argument("--tls-key", type=Path, help="server private key (PEM)")
    p.add_argument(
        "--tls-client-ca", type=Path, help="CA (PEM) to require client certificates (mutual TLS)"
    )
    p.add_argument(
        "--auth-token-file",
        type=Path,
        help=f"file with accepted bearer tokens, one per line (or set {TOKENS_ENV}, comma-separated)",
    )
    p.add_argument(
        "--grace-seconds",
        type=float,
        default=30.0,
        help="shutdown waits this long for in-flight calls",
    )
    p.add_argument("--log-format", choices=("json", "text"), default="json")
    p.add_argument("--log-level", default="INFO")
    p.set_defaults(func=run_serve)

    h = sub.add_parser(
        "health", help="exit 0 if a server reports SERVING", description="Probe grpc.health.v1."
    )
    h.add_argument(
        "--address", default="127.0.0.1:50051", help="host:port (default 127.0.0.1:50051)"
    )
    h.add_argument("--service", default="", help="service name (default: the whole server)")
    h.add_argument("--time-limit", type=float, default=3.0, help="seconds (default 3)")
    h.add_argument("--tls-ca", type=Path, help="CA (PEM) to verify a TLS server")
    h.add_argument("--tls-cert", type=Path, help="client certificate (PEM) for mutual TLS")
    h.add_argument("--tls-key", type=Path, help="client key (PEM) for mutual TLS")
    h.set_defaults(func=run_health)


def parse_limits(pairs: list[str], command: str = "serve") -> Any:
    """``--limit NAME=VALUE`` options -> :class:`Limits` (the others at their defaults)."""
    from mechsolve.solver.core.errors import MechsolveInputError
    from mechsolve.solver.core.limits import Limits

    known = {f.name for f in fields(Limits) if f.name.startswith("max_")}
    values: dict[str, int] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or name not in known:
            raise MechsolveInputError(
                command, "--limit", f"must be NAME=VALUE with NAME in {sorted(known)}; got {pair!r}"
            )
        try:
            values[name] = int(raw)
        except ValueError as exc:
            raise MechsolveInputError(
                command, f"--limit {name}", f"must be an integer; got {raw!r}"
            ) from exc
    return Limits(**values)


def _tokens(path: Path | None) -> tuple[str, ...]:
    tokens: list[str] = []
    if path is not None:
        tokens += [line.strip() for line in path.read_text().splitlines() if line.strip()]
    tokens += [t.strip() for t in os.environ.get(TOKENS_ENV, "").split(",") if t.strip()]
    return tuple(tokens)


def run_serve(args: argparse.Namespace) -> int:
    from mechsolve.server.app import serve
    from mechsolve.server.config import ServerConfig
    from mechsolve.solver.core.limits import Limits

    if args.list_limits:
        for f in fields(Limits):
            if f.name.startswith("max_"):
                print(f"{f.name}={f.default}")
        return 0
    config = ServerConfig(
        host=args.host,
        port=args.port,
        workers=args.workers,
        solvers=args.solvers,
        call_memory_mb=args.call_memory_mb,
        metrics_port=args.metrics_port,
        insecure=args.insecure,
        reuse_port=args.reuse_port,
        max_concurrent_rpcs=args.max_concurrent_rpcs,
        max_message_bytes=int(args.max_message_mb * 1024 * 1024),
        max_pending_mb=args.max_pending_mb,
        max_solve_seconds=args.max_solve_seconds,
        limits=parse_limits(args.limit),
        pyomo_solvers=tuple(args.pyomo_solver or ("appsi_highs",)),
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
        auth_tokens=_tokens(args.auth_token_file),
        grace_seconds=args.grace_seconds,
        log_format=args.log_format,
        log_level=args.log_level,
    )
    return serve(config)


def run_health(args: argparse.Namespace) -> int:
    from mechsolve.client import MechsolveClient, MechsolveRpcError, RetryPolicy

    tls = {}
    if args.tls_ca or args.tls_cert:
        tls = {
            "root_certificates": args.tls_ca,
            "private_key": args.tls_key,
            "certificate_chain": args.tls_cert,
        }
    with MechsolveClient(args.address, retry=RetryPolicy(max_attempts=1), **tls) as client:
        try:
            status = client.health(args.service, time_limit=args.time_limit)
        except MechsolveRpcError as exc:
            print(f"{args.address}: {exc}")
            return 1
    print(f"{args.address}: {status}")
    return 0 if status == "SERVING" else 1
