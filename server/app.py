"""Building and running the gRPC server: services, health, reflection, limits, TLS, auth,
graceful shutdown, and SO_REUSEPORT worker processes.

Solves are CPU-bound and hold the GIL, so the server scales with processes: ``workers > 1``
starts that many processes (spawned before any gRPC object exists in them) that all bind the
same port with SO_REUSEPORT; the kernel spreads connections across them.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import socket
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, replace
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mechsolve.v1 import (
    auctions_pb2,
    auctions_pb2_grpc,
    mediators_pb2,
    mediators_pb2_grpc,
    structured_pb2,
    structured_pb2_grpc,
)

from .auction_servicer import AuctionServicer
from .config import ServerConfig
from .interceptors import AuthInterceptor, LoggingInterceptor
from .logs import configure, log
from .mediator_servicer import MediatorServicer
from .structured_servicer import StructuredMediatorServicer


@dataclass(frozen=True)
class Service:
    """One mechsolve.v1 service: its generated registration function and servicer class."""

    name: str
    add_to_server: Callable[[Any, grpc.Server], None]
    servicer: Callable[[ServerConfig], Any]


SERVICES: tuple[Service, ...] = (
    Service(
        mediators_pb2.DESCRIPTOR.services_by_name["MediatorService"].full_name,
        mediators_pb2_grpc.add_MediatorServiceServicer_to_server,
        MediatorServicer,
    ),
    Service(
        structured_pb2.DESCRIPTOR.services_by_name["StructuredMediatorService"].full_name,
        structured_pb2_grpc.add_StructuredMediatorServiceServicer_to_server,
        StructuredMediatorServicer,
    ),
    Service(
        auctions_pb2.DESCRIPTOR.services_by_name["AuctionService"].full_name,
        auctions_pb2_grpc.add_AuctionServiceServicer_to_server,
        AuctionServicer,
    ),
)
SERVICE_NAMES = tuple(s.name for s in SERVICES)


@dataclass
class RunningServer:
    """A started server: the gRPC server object, its port and its health servicer."""

    server: grpc.Server
    port: int
    health: health.HealthServicer
    config: ServerConfig

    def stop(self, grace: float | None = None) -> None:
        """Stop accepting calls and wait for in-flight calls (at most ``grace`` seconds)."""
        self.health.enter_graceful_shutdown()
        g = self.config.grace_seconds if grace is None else grace
        self.server.stop(g).wait()

    @property
    def address(self) -> str:
        return replace(self.config, port=self.port).address


def _credentials(config: ServerConfig) -> grpc.ServerCredentials:
    assert config.tls_cert is not None and config.tls_key is not None
    key = config.tls_key.read_bytes()
    cert = config.tls_cert.read_bytes()
    ca = config.tls_client_ca.read_bytes() if config.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=ca is not None
    )


def build_server(config: ServerConfig, *, reuse_port: bool = False) -> RunningServer:
    """Create, configure and start a server (returns once it listens)."""
    interceptors: list[grpc.ServerInterceptor] = [LoggingInterceptor()]
    if config.auth_tokens:
        interceptors.append(AuthInterceptor(config.auth_tokens))
    options = [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", config.max_message_bytes),
        ("grpc.so_reuseport", 1 if reuse_port else 0),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.threads, thread_name_prefix="mechsolve-rpc"),
        interceptors=interceptors,
        options=options,
        maximum_concurrent_rpcs=config.max_concurrent_rpcs,
    )
    for service in SERVICES:
        service.add_to_server(service.servicer(config), server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            *SERVICE_NAMES,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    if config.tls:
        port = server.add_secure_port(config.address, _credentials(config))
    else:
        port = server.add_insecure_port(config.address)
    if port == 0:
        raise OSError(f"cannot listen on {config.address}")
    server.start()
    for name in ("", *SERVICE_NAMES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, port, health_servicer, config)


def run(
    config: ServerConfig, *, reuse_port: bool = False, ready: threading.Event | None = None
) -> int:
    """Serve until SIGTERM/SIGINT, then drain in-flight calls and exit (blocking)."""
    configure(config.log_format, config.log_level)
    running = build_server(config, reuse_port=reuse_port)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log("shutdown", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log("serving", address=running.address, tls=config.tls, auth=bool(config.auth_tokens))
    if ready is not None:
        ready.set()
    stop.wait()
    running.stop()
    log("stopped", address=running.address)
    return 0


def _worker(config: ServerConfig) -> None:  # pragma: no cover - runs in a child process
    raise SystemExit(run(config, reuse_port=True))


def free_port(host: str = "127.0.0.1") -> int:
    """A currently free TCP port on ``host``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host.strip("[]"), 0))
        return int(s.getsockname()[1])


def serve(config: ServerConfig) -> int:
    """Run ``config.workers`` server processes sharing one port (or serve in this process)."""
    if config.workers == 1:
        return run(config)
    if config.port == 0:
        config = replace(config, port=free_port(config.host))
    configure(config.log_format, config.log_level)
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=_worker, args=(config,), name=f"mechsolve-worker-{i}")
        for i in range(config.workers)
    ]
    for p in procs:
        p.start()
    log("workers", count=config.workers, address=config.address, pids=[p.pid for p in procs])

    def forward(signum: int, _frame: FrameType | None) -> None:
        for p in procs:
            if p.is_alive() and p.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for p in procs:
        p.join()
    return max((p.exitcode or 0) for p in procs)
