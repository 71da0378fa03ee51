"""Python clients of the mechsolve service: :class:`MechsolveClient` (sync) and
:class:`AsyncMechsolveClient` (``grpc.aio``). numpy in, the solver's result dataclasses out,
a default deadline on every call, retries with backoff on ``UNAVAILABLE`` only.

    with MechsolveClient("127.0.0.1:50051") as client:
        res = client.pareto_mediator(game, actions=[1, 1], delegate=[1, 1])
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mechsolve import convert as cv
from mechsolve.v1 import auctions_pb2_grpc as agrpc
from mechsolve.v1 import mediators_pb2 as mpb
from mechsolve.v1 import mediators_pb2_grpc as mgrpc
from mechsolve.v1 import structured_pb2_grpc as sgrpc

from .auction_ops import AuctionOperations
from .errors import MechsolveRpcError, translate
from .operations import MediatorOperations, batch_request
from .retry import RetryPolicy
from .structured_ops import StructuredOperations

DEFAULT_TIMEOUT = 30.0
"""Seconds a call may take when the caller gives no ``timeout``."""

STUBS: tuple[type, ...] = (
    mgrpc.MediatorServiceStub,
    sgrpc.StructuredMediatorServiceStub,
    agrpc.AuctionServiceStub,
)
"""The generated stub of every mechsolve.v1 service the clients talk to."""


class Operations(MediatorOperations, StructuredOperations, AuctionOperations):
    """Every operation of every mechsolve.v1 service (one mixin per service)."""


def _methods(channel: Any) -> dict[str, Any]:
    """RPC name -> stub callable, over every service in :data:`STUBS` (names are unique)."""
    out: dict[str, Any] = {}
    for stub_cls in STUBS:
        stub = stub_cls(channel)
        for name, method in vars(stub).items():
            if name in out:
                raise RuntimeError(f"RPC name {name!r} is defined by two services")
            out[name] = method
    return out


@dataclass(frozen=True)
class ChannelSettings:
    """How to reach the server.

    Attributes:
        address: ``host:port``.
        token: bearer token sent as ``authorization`` metadata (``None``: none).
        root_certificates, private_key, certificate_chain: PEM files for TLS (root CA to
            verify the server) and mutual TLS (client key and certificate).
        max_message_bytes: largest message either way.
    """

    address: str = "127.0.0.1:50051"
    token: str | None = None
    root_certificates: Path | None = None
    private_key: Path | None = None
    certificate_chain: Path | None = None
    max_message_bytes: int = 64 * 1024 * 1024

    @property
    def options(self) -> list[tuple[str, Any]]:
        return [
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.enable_retries", 0),  # retries are the client's own (UNAVAILABLE only)
        ]

    @property
    def credentials(self) -> grpc.ChannelCredentials | None:
        if self.root_certificates is None and self.private_key is None:
            return None
        read = lambda p: None if p is None else Path(p).read_bytes()  # noqa: E731
        return grpc.ssl_channel_credentials(
            read(self.root_certificates), read(self.private_key), read(self.certificate_chain)
        )

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()


def _settings(address: str | ChannelSettings, **kw: Any) -> ChannelSettings:
    if isinstance(address, ChannelSettings):
        return address
    return ChannelSettings(address, **kw)


class _Client(Operations):
    """What both clients share: settings, the channel (plain or TLS), the RPC table."""

    _insecure_channel: Callable[..., Any]
    _secure_channel: Callable[..., Any]

    def __init__(
        self,
        address: str | ChannelSettings = "127.0.0.1:50051",
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        **channel: Any,
    ) -> None:
        self.settings = _settings(address, **channel)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        creds, opts = self.settings.credentials, self.settings.options
        if creds is None:
            self._channel = self._insecure_channel(self.settings.address, options=opts)
        else:
            self._channel = self._secure_channel(self.settings.address, creds, options=opts)
        self._rpc = _methods(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)


class MechsolveClient(_Client):
    """Blocking client. Every method takes ``timeout`` (seconds, default
    :data:`DEFAULT_TIMEOUT`), retried on ``UNAVAILABLE`` within that deadline."""

    _insecure_channel = staticmethod(grpc.insecure_channel)
    _secure_channel = staticmethod(grpc.secure_channel)

    def _invoke(
        self, rpc: str, request: Any, parse: Callable[[Any], Any], timeout: float | None
    ) -> Any:
        return parse(self._call(self._rpc[rpc], request, timeout))

    def _call(self, method: Any, request: Any, timeout: float | None) -> Any:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        delays = self.retry.delays()
        while True:
            try:
                return method(
                    request,
                    timeout=max(0.0, deadline - time.monotonic()),
                    metadata=self.settings.metadata,
                )
            except grpc.RpcError as err:
                delay = next(delays, None) if err.code() == grpc.StatusCode.UNAVAILABLE else None
                if delay is None or time.monotonic() + delay >= deadline:
                    raise translate(err) from None
                time.sleep(delay)

    def stream_mediate_batch(
        self,
        game: Any,
        batches: Iterable[tuple[Any, Any]],
        *,
        mediator: str = "pareto",
        welfare: Any = "utilitarian",
        method: str = "enumeration",
        timeout: float | None = None,
    ) -> Iterator[Any]:
        """One bidirectional stream: each ``(actions, delegate)`` batch in, a BatchResult out,
        in order (for example one batch per simulation round)."""
        pending: list[tuple[Any, Any]] = []

        def requests() -> Iterator[mpb.StreamMediateBatchRequest]:
            for acts, dele in batches:
                pending.append((acts, dele))
                req = batch_request(game, acts, dele, mediator, welfare, method, None)
                yield mpb.StreamMediateBatchRequest(batch=req)

        try:
            for resp in self._rpc["StreamMediateBatch"](
                requests(),
                timeout=self.timeout if timeout is None else timeout,
                metadata=self.settings.metadata,
            ):
                acts, dele = pending.pop(0)
                yield cv.batch_result_from_proto(resp.batch, acts, dele)
        except grpc.RpcError as err:
            raise translate(err) from None

    def health(self, service: str = "", *, timeout: float = 5.0) -> str:
        """The serving status name (``"SERVING"``, ``"NOT_SERVING"``, ...)."""
        resp = self._call(
            self._health.Check, health_pb2.HealthCheckRequest(service=service), timeout
        )
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))

    def wait_until_serving(self, timeout: float = 10.0) -> None:
        """Block until the server reports SERVING (raises MechsolveRpcError after ``timeout``)."""
        end = time.monotonic() + timeout
        while True:
            try:
                if self.health(timeout=max(0.1, end - time.monotonic())) == "SERVING":
                    return
            except MechsolveRpcError:
                pass
            if time.monotonic() >= end:
                raise MechsolveRpcError(
                    grpc.StatusCode.UNAVAILABLE, f"{self.settings.address} not serving"
                )
            time.sleep(0.05)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> MechsolveClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncMechsolveClient(_Client):
    """asyncio client (``grpc.aio``): the same methods as :class:`MechsolveClient`, each
    returning an awaitable. Use ``async with AsyncMechsolveClient(...) as client``."""

    _insecure_channel = staticmethod(grpc.aio.insecure_channel)
    _secure_channel = staticmethod(grpc.aio.secure_channel)

    async def _invoke(
        self, rpc: str, request: Any, parse: Callable[[Any], Any], timeout: float | None
    ) -> Any:
        return parse(await self._call(self._rpc[rpc], request, timeout))

    async def _call(self, method: Any, request: Any, timeout: float | None) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        delays = self.retry.delays()
        while True:
            try:
                return await method(
                    request,
                    timeout=max(0.0, deadline - loop.time()),
                    metadata=self.settings.metadata,
                )
            except grpc.aio.AioRpcError as err:
                delay = next(delays, None) if err.code() == grpc.StatusCode.UNAVAILABLE else None
                if delay is None or loop.time() + delay >= deadline:
                    raise translate(err) from None
                await asyncio.sleep(delay)

    async def stream_mediate_batch(
        self,
        game: Any,
        batches: Iterable[tuple[Any, Any]],
        *,
        mediator: str = "pareto",
        welfare: Any = "utilitarian",
        method: str = "enumeration",
        timeout: float | None = None,
    ) -> AsyncIterator[Any]:
        """Async counterpart of :meth:`MechsolveClient.stream_mediate_batch`."""
        items = list(batches)
        reqs = [
            mpb.StreamMediateBatchRequest(
                batch=batch_request(game, a, d, mediator, welfare, method, None)
            )
            for a, d in items
        ]
        call = self._rpc["StreamMediateBatch"](
            iter(reqs),
            timeout=self.timeout if timeout is None else timeout,
            metadata=self.settings.metadata,
        )
        try:
            k = 0
            async for resp in call:
                acts, dele = items[k]
                k += 1
                yield cv.batch_result_from_proto(resp.batch, acts, dele)
        except grpc.aio.AioRpcError as err:
            raise translate(err) from None

    async def health(self, service: str = "", *, timeout: float = 5.0) -> str:
        resp = await self._call(
            self._health.Check, health_pb2.HealthCheckRequest(service=service), timeout
        )
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncMechsolveClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
