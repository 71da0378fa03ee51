"""Building and running the gRPC server: services, health, reflection, limits, TLS, auth,
graceful shutdown, and SO_REUSEPORT worker processes.

Solves are CPU-bound and hold the GIL, so the server scales with processes: ``workers > 1``
starts that many processes (spawned before any gRPC object exists in them) that all bind the
same port with SO_REUSEPORT; the kernel spreads connections across them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import signal
import socket
import ssl
import threading
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from types import FrameType
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2

from mechsolve.api import SERVICES

from .config import ServerConfig
from .interceptors import AuthInterceptor
from .logs import configure, log
from .memory import return_large_buffers
from .metrics import Metrics
from .servicer import Servicer

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
    """The TLS credentials, checked first (a bad file is one clear error, not gRPC's log)."""
    assert config.tls_cert is not None and config.tls_key is not None
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            config.tls_cert, config.tls_key
        )
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(
            f"--tls-cert/--tls-key: not a PEM certificate chain and its private key ({exc})"
        ) from exc
    if config.tls_client_ca is not None:
        try:
            ssl.create_default_context(cafile=config.tls_client_ca)
        except (ssl.SSLError, OSError) as exc:
            raise ValueError(f"--tls-client-ca: not PEM CA certificates ({exc})") from exc
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
    servicer: Servicer
    metrics: Metrics
    metrics_port: int | None

    async def shutdown(self, grace: float) -> None:
        """Report NOT_SERVING, refuse new calls, let in-flight calls finish within ``grace``,
        then stop every solve worker and write the last call statistics: bounded by ``grace``
        whatever the solves are doing."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        self.servicer.close()  # calls still running past the grace lose their workers...
        await self.servicer.drained(DRAIN_SECONDS)  # ...and end (logged) before the loop does
        self.metrics.flush()


DRAIN_SECONDS = 2.0
"""After the grace period, how long the cancelled calls may take to end (their workers are
killed: they end at once)."""

REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"
"""Reflection's stable name; served by the v1alpha implementation (the same messages)."""


def _reflection_v1(names: tuple[str, ...]) -> grpc.GenericRpcHandler:
    impl = reflection.aio.ReflectionServicer(names)
    method = grpc.stream_stream_rpc_method_handler(
        impl.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    return grpc.method_handlers_generic_handler(REFLECTION_V1, {"ServerReflectionInfo": method})


def _check_free(config: ServerConfig) -> None:
    """Refuse a port another process listens on, before gRPC tries it (and logs its own
    multi-line error)."""
    if config.port == 0:
        return
    host = config.host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds
        try:
            s.bind((host, config.port))
        except OSError as exc:
            raise OSError(f"cannot listen on {config.address}: {exc.strerror}") from exc


async def _start(config: ServerConfig, reuse_port: bool) -> _Started:
    """Create, configure and start the aio server (in the running loop)."""
    interceptors = [AuthInterceptor(config.auth_tokens)] if config.auth_tokens else []
    options = [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", config.max_message_bytes),
        ("grpc.so_reuseport", 1 if reuse_port or config.reuse_port else 0),
    ]
    server = grpc.aio.server(interceptors=interceptors, options=options)
    metrics = Metrics()
    servicer = Servicer(config, metrics)
    server.add_generic_rpc_handlers(servicer.handlers())
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = (
        *SERVICE_NAMES,
        health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
        reflection.SERVICE_NAME,
        REFLECTION_V1,
    )
    reflection.enable_server_reflection(names, server)
    server.add_generic_rpc_handlers([_reflection_v1(names)])
    credentials = _credentials(config) if config.tls else None
    sharing = reuse_port or config.reuse_port
    if not sharing:
        _check_free(config)
    try:
        if credentials is not None:
            port = server.add_secure_port(config.address, credentials)
        else:
            port = server.add_insecure_port(config.address)
    except RuntimeError:
        port = 0
    if port == 0:
        raise OSError(
            f"cannot listen on {config.address} (in use, or not an address of this machine)"
        )
    await server.start()
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    metrics_port = (
        None if config.metrics_port is None else metrics.serve(config.metrics_port, config.host)
    )
    return _Started(server, port, health_servicer, servicer, metrics, metrics_port)


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
    """Serve in this thread until SIGTERM/SIGINT, then drain in-flight calls (at most
    ``grace_seconds``) and exit; a server that cannot start says why in one line (exit 1)."""
    configure(config.log_format, config.log_level)
    return_large_buffers()

    async def main() -> int:
        try:
            started = await _start(config, reuse_port)
        except (OSError, RuntimeError, ValueError) as exc:
            log(
                "cannot_start",
                logging.ERROR,
                address=config.address,
                error=str(exc) or type(exc).__name__,
            )
            return 1
        address = replace(config, port=started.port).address
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _on_signal, sig, stop)
        log(
            "serving",
            address=address,
            tls=config.tls,
            auth=bool(config.auth_tokens),
            metrics_port=started.metrics_port,
        )
        if config.auth_tokens and not config.tls:
            log("warning", logging.WARNING, message="bearer tokens travel in plaintext without TLS")
        if not config.loopback and not config.tls:
            log("warning", logging.WARNING, message=f"serving {address} without TLS (--insecure)")
        await stop.wait()
        await started.shutdown(config.grace_seconds)
        log("stopped", address=address)
        return 0

    return asyncio.run(main())


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


RESTART_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Waits before restarting a worker that died; one that dies this many times in a row, each
within ``STABLE_SECONDS`` of its start, is given up on and the server exits non-zero."""
STABLE_SECONDS = 30.0


def serve(config: ServerConfig) -> int:
    """Run ``config.workers`` server processes sharing one port (or serve in this process);
    a worker that dies is restarted with backoff (logged), SIGTERM/SIGINT drain them all."""
    if config.workers == 1:
        return run(config)
    if config.port == 0:
        config = replace(config, port=free_port(config.host))
    configure(config.log_format, config.log_level)
    return _Supervisor(config).run()


class _Supervisor:
    """Starts the worker processes, restarts the ones that die, forwards stop signals."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.ctx = mp.get_context("spawn")
        self.stopping = False
        self.procs: list[Any] = []
        self.started: list[float] = []
        self.failures: list[int] = []

    def _start(self, i: int) -> None:
        config = self.config
        if config.metrics_port:  # one metrics port per worker process: the next ones up
            config = replace(config, metrics_port=config.metrics_port + i)
        proc = self.ctx.Process(target=_worker, args=(config,), name=f"mechsolve-worker-{i}")
        proc.start()
        self.procs[i], self.started[i] = proc, time.monotonic()

    def _forward(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True
        for p in self.procs:
            if p.is_alive() and p.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signum)

    def run(self) -> int:
        n = self.config.workers
        self.procs, self.started, self.failures = [None] * n, [0.0] * n, [0] * n
        for i in range(n):
            self._start(i)
        log("workers", count=n, address=self.config.address, pids=[p.pid for p in self.procs])
        signal.signal(signal.SIGTERM, self._forward)
        signal.signal(signal.SIGINT, self._forward)
        while not self.stopping:
            wait([p.sentinel for p in self.procs], timeout=1.0)
            for i, p in enumerate(self.procs):
                if p.is_alive() or self.stopping:
                    continue
                code = p.exitcode
                self.failures[i] = (
                    0
                    if time.monotonic() - self.started[i] > STABLE_SECONDS
                    else self.failures[i] + 1
                )
                if self.failures[i] > len(RESTART_BACKOFF):
                    log(
                        "worker_given_up",
                        logging.ERROR,
                        worker=i,
                        exitcode=code,
                        restarts=len(RESTART_BACKOFF),
                    )
                    self._forward(signal.SIGTERM, None)
                    break
                delay = RESTART_BACKOFF[max(0, self.failures[i] - 1)]
                log(
                    "worker_died",
                    logging.WARNING,
                    worker=i,
                    pid=p.pid,
                    exitcode=code,
                    restart_in_s=delay,
                )
                time.sleep(delay)
                if self.stopping:  # a stop signal came during the wait
                    break
                self._start(i)
                log("worker_restarted", worker=i, pid=self.procs[i].pid)
        for p in self.procs:
            p.join()
        given_up = any(f > len(RESTART_BACKOFF) for f in self.failures)
        return 1 if given_up else max((p.exitcode or 0) for p in self.procs)
