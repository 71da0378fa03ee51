"""Python clients of the mechsolve service: :class:`MechsolveClient` (blocking) and
:class:`AsyncMechsolveClient` (``grpc.aio``). numpy in, the solver's result dataclasses out;
every method is the solver function of the same name (:mod:`.methods`), its ``time_limit`` the
call's deadline (``None``: ``default_time_limit``); retries with backoff on ``UNAVAILABLE`` only.

    with MechsolveClient("127.0.0.1:50051") as client:
        res = client.pareto_mediator(game, actions=[1, 1], delegate=[1, 1])
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mechsolve import codec
from mechsolve.api import Rpc, Stream
from mechsolve.api.declare import DEADLINE_ARGUMENT, STREAM_TIME_LIMIT_METADATA
from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError

from .errors import MechsolveRpcError, translate
from .methods import AsyncMethods, SyncMethods
from .retry import RetryPolicy

MAX_DEADLINE_SECONDS = 1e6
"""Longer deadlines are this one (gRPC's deadline arithmetic overflows near 1e308 seconds: a
call would fail at once with DEADLINE_EXCEEDED)."""

DEFAULT_TIME_LIMIT = 30.0
"""Seconds a call (or one message of a stream) may take when the caller gives no
``time_limit``."""


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


class _Client:
    """What both clients share: settings, the channel (plain or TLS), the calls by path."""

    _insecure_channel: Callable[..., Any]
    _secure_channel: Callable[..., Any]

    def __init__(
        self,
        address: str | ChannelSettings = "127.0.0.1:50051",
        *,
        default_time_limit: float = DEFAULT_TIME_LIMIT,
        retry: RetryPolicy | None = None,
        **channel: Any,
    ) -> None:
        self.settings = (
            address if isinstance(address, ChannelSettings) else ChannelSettings(address, **channel)
        )
        self.default_time_limit = default_time_limit
        self.retry = retry or RetryPolicy()
        creds, opts = self.settings.credentials, self.settings.options
        if creds is None:
            self._channel = self._insecure_channel(self.settings.address, options=opts)
        else:
            self._channel = self._secure_channel(self.settings.address, creds, options=opts)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    def _multicallable(self, rpc: Rpc | Stream) -> Any:
        kind = self._channel.stream_stream if isinstance(rpc, Stream) else self._channel.unary_unary
        return kind(
            rpc.path,
            request_serializer=rpc.request.SerializeToString,
            response_deserializer=rpc.response.FromString,
        )

    def _request(self, rpc: Rpc, arguments: dict[str, Any], name: str) -> tuple[Any, float]:
        """The request message and the call's deadline (seconds from now); errors name the
        method ``name`` as the solver function of that name would."""
        seconds = self._seconds(name, arguments.pop(DEADLINE_ARGUMENT, None))
        return codec.encode_request(rpc, arguments, name), seconds

    def _seconds(self, function: str, seconds: Any) -> float:
        """The call's deadline in seconds: ``time_limit`` checked as the solver checks it."""
        limit = v.time_limit(function, seconds)
        return min(self.default_time_limit if limit is None else limit, MAX_DEADLINE_SECONDS)

    def _messages(
        self, stream: Stream, arguments: dict[str, Any]
    ) -> tuple[Any, dict[str, Any], float]:
        """The batches, the arguments shared by every message and the per-message deadline."""
        batches = arguments.pop(stream.batches_argument)
        seconds = self._seconds(stream.function.__name__, arguments.pop(DEADLINE_ARGUMENT, None))
        return batches, arguments, seconds

    def _message(self, stream: Stream, shared: dict[str, Any], item: Any) -> Any:
        if not isinstance(item, tuple | list) or len(item) != len(stream.per_message):
            raise MechsolveInputError(
                stream.function.__name__,
                stream.batches_argument,
                f"must hold {stream.per_message} tuples; got {type(item).__name__}",
            )
        values = dict(zip(stream.per_message, item, strict=True))
        request = codec.encode_request(stream.of, {**shared, **values}, stream.function.__name__)
        return stream.request(batch=request)

    def _stream_metadata(self, seconds: float) -> tuple[tuple[str, str], ...]:
        return (*self.settings.metadata, (STREAM_TIME_LIMIT_METADATA, repr(seconds)))


def _late(seconds: float) -> MechsolveRpcError:
    return MechsolveRpcError(
        grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer to a stream message within {seconds} s"
    )


class MechsolveClient(SyncMethods, _Client):
    """Blocking client: every API method (:mod:`.methods`), plus health checks and the
    per-message stream."""

    _insecure_channel = staticmethod(grpc.insecure_channel)
    _secure_channel = staticmethod(grpc.secure_channel)

    def _unary(self, rpc: Rpc, arguments: dict[str, Any], name: str) -> Any:
        request, seconds = self._request(rpc, arguments, name)
        return codec.decode_result(rpc, self._call(self._multicallable(rpc), request, seconds))

    def _call(self, method: Any, request: Any, seconds: float) -> Any:
        deadline = time.monotonic() + seconds
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

    def _stream(self, stream: Stream, arguments: dict[str, Any]) -> Iterator[Any]:
        """One message per batch, pulled from ``batches`` only after the previous answer has
        been taken (round t+1 may depend on round t's answer); each answer within the
        per-message deadline; no deadline on the stream as a whole."""
        batches, shared, seconds = self._messages(stream, arguments)
        outbox: queue.Queue[Any] = queue.Queue()
        call = self._multicallable(stream)(
            iter(outbox.get, None), metadata=self._stream_metadata(seconds)
        )
        try:
            for item in batches:
                outbox.put(self._message(stream, shared, item))
                timer = threading.Timer(seconds, call.cancel)
                timer.start()
                try:
                    response = next(call)
                except grpc.RpcError as err:
                    raise (_late(seconds) if not timer.is_alive() else translate(err)) from None
                finally:
                    timer.cancel()
                yield codec.decode_result(stream.of, response)
            outbox.put(None)  # no more batches: the server ends the stream (status OK)
            for _ in call:
                pass
        except grpc.RpcError as err:
            raise translate(err) from None
        finally:
            outbox.put(None)
            call.cancel()  # no-op once the stream has ended

    def health(self, service: str = "", *, time_limit: float = 5.0) -> str:
        """The serving status name (``"SERVING"``, ``"NOT_SERVING"``, ...)."""
        resp = self._call(
            self._health.Check, health_pb2.HealthCheckRequest(service=service), time_limit
        )
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))

    def wait_until_serving(self, time_limit: float = 10.0) -> None:
        """Block until the server reports SERVING (raises MechsolveRpcError after
        ``time_limit``)."""
        end = time.monotonic() + time_limit
        while True:
            try:
                if self.health(time_limit=max(0.1, end - time.monotonic())) == "SERVING":
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


class AsyncMechsolveClient(AsyncMethods, _Client):
    """asyncio client (``grpc.aio``): the same methods as :class:`MechsolveClient`, each a
    coroutine (a stream: an async iterator). Use ``async with AsyncMechsolveClient(...)``."""

    _insecure_channel = staticmethod(grpc.aio.insecure_channel)
    _secure_channel = staticmethod(grpc.aio.secure_channel)

    async def _unary(self, rpc: Rpc, arguments: dict[str, Any], name: str) -> Any:
        request, seconds = self._request(rpc, arguments, name)
        return codec.decode_result(
            rpc, await self._call(self._multicallable(rpc), request, seconds)
        )

    async def _call(self, method: Any, request: Any, seconds: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
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

    async def _stream(self, stream: Stream, arguments: dict[str, Any]) -> AsyncIterator[Any]:
        """Async counterpart of :meth:`MechsolveClient._stream`; ``batches`` may be an async
        iterable too."""
        batches, shared, seconds = self._messages(stream, arguments)
        items = batches if hasattr(batches, "__aiter__") else _aiter(batches)
        call = self._multicallable(stream)(metadata=self._stream_metadata(seconds))
        try:
            async for item in items:
                await call.write(self._message(stream, shared, item))
                try:
                    response = await asyncio.wait_for(call.read(), seconds)
                except TimeoutError:
                    raise _late(seconds) from None
                if response is grpc.aio.EOF:  # the server ended the stream without an answer
                    raise MechsolveRpcError(
                        await call.code(), await call.details() or "stream ended"
                    )
                yield codec.decode_result(stream.of, response)
            await call.done_writing()  # no more batches: the server ends the stream (status OK)
            while await call.read() is not grpc.aio.EOF:
                pass
        except grpc.aio.AioRpcError as err:
            raise translate(err) from None
        finally:
            call.cancel()  # no-op once the stream has ended

    async def health(self, service: str = "", *, time_limit: float = 5.0) -> str:
        resp = await self._call(
            self._health.Check, health_pb2.HealthCheckRequest(service=service), time_limit
        )
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncMechsolveClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _aiter(items: Any) -> AsyncIterator[Any]:
    for item in items:
        yield item
