"""Building and running the gRPC server: services, health, reflection, limits, TLS, auth,
graceful shutdown, and SO_REUSEPORT worker processes.

Solves are CPU-bound and hold the GIL, so the server scales with processes: ``workers > 1``
starts that many processes (spawned before any gRPC object exists in them) that all bind the
same port with SO_REUSEPORT; the kernel spreads connections across them.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import signal
import socket
import threading
from dataclasses import dataclass, replace
from types import FrameType
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mechsolve.api import SERVICES

from .config import ServerConfig
from .interceptors import AuthInterceptor, LoggingInterceptor
from .logs import configure, log
from .servicer import handlers
from .status import set_solve_threads

SERVICE_NAMES = tuple(SERVICES)
"""Every mechsolve.v1 service (from the declarations in mechsolve.api)."""


@dataclass
class RunningServer:
    """A started ``grpc.aio`` server running on its own event-loop thread (for tests, the
    demo and embedding); :func:`run` serves in the main thread instead."""

    started: _Started
    config: ServerConfig
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.started.port

    def stop(self, grace: float | None = None) -> None:
        """Stop accepting calls and wait for in-flight calls (at most ``grace`` seconds)."""
        g = self.config.grace_seconds if grace is None else grace
        asyncio.run_coroutine_threadsafe(self.started.shutdown(g), self.loop).result()
        if self.thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()

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


@dataclass
class _Started:
    server: grpc.aio.Server
    port: int
    health: Any
    logging: LoggingInterceptor

    async def shutdown(self, grace: float) -> None:
        """Report NOT_SERVING, refuse new calls, let in-flight calls finish within ``grace``,
        then write the last call statistics."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        self.logging.flush()


async def _start(config: ServerConfig, reuse_port: bool) -> _Started:
    """Create, configure and start the aio server (in the running loop)."""
    set_solve_threads(config.threads)
    call_logs = LoggingInterceptor()
    interceptors: list[grpc.aio.ServerInterceptor] = [call_logs]
    if config.auth_tokens:
        interceptors.append(AuthInterceptor(config.auth_tokens))
    options = [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", config.max_message_bytes),
        ("grpc.so_reuseport", 1 if reuse_port else 0),
    ]
    server = grpc.aio.server(
        interceptors=interceptors,
        options=options,
        maximum_concurrent_rpcs=config.max_concurrent_rpcs,
    )
    server.add_generic_rpc_handlers(handlers(config))
    health_servicer = health.aio.HealthServicer()
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
    await server.start()
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return _Started(server, port, health_servicer, call_logs)


def build_server(config: ServerConfig, *, reuse_port: bool = False) -> RunningServer:
    """Start a server on a background event-loop thread; returns once it listens."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="mechsolve-server", daemon=True)
    thread.start()
    try:
        started = asyncio.run_coroutine_threadsafe(_start(config, reuse_port), loop).result()
    except BaseException:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        raise
    return RunningServer(started, config, loop, thread)


def run(config: ServerConfig, *, reuse_port: bool = False) -> int:
    """Serve in this thread until SIGTERM/SIGINT, then drain in-flight calls and exit."""
    configure(config.log_format, config.log_level)

    async def main() -> None:
        started = await _start(config, reuse_port)
        address = replace(config, port=started.port).address
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _on_signal, sig, stop)
        log("serving", address=address, tls=config.tls, auth=bool(config.auth_tokens))
        await stop.wait()
        await started.shutdown(config.grace_seconds)
        log("stopped", address=address)

    asyncio.run(main())
    return 0


def _on_signal(sig: signal.Signals, stop: asyncio.Event) -> None:
    log("shutdown", signal=signal.Signals(sig).name)
    stop.set()


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
