"""Where a simulation's mediator runs: one interface, three transports.

- ``in-process``: :class:`~mechsolve.client.local.LocalMechsolve` (no server);
- ``grpc``: :class:`~mechsolve.client.grpc_client.MechsolveClient`, one unary call per round;
- ``stream``: the same client, with each (game, mediator) on one open ``StreamMediateBatch``
  stream, a message per round (restaurant and matching rounds stay unary: they have no
  stream RPC).

Every backend answers ``mediate_batch(game, actions, delegate, mediator=...)``,
``mediate_matching(...)`` and ``mediate_restaurant(...)`` with the solver's own result types,
so a seed gives the same numbers through each (tests check it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from mechsolve.solver.core import validation as v

BACKENDS = ("in-process", "grpc", "stream")


class _StreamSession:
    """One open stream for one (game, mediator): each call sends a batch and returns its
    answer (the client pulls the next batch only when asked for the next answer)."""

    def __init__(self, client: Any, game: Any, mediator: str, kwargs: dict[str, Any]) -> None:
        self._pending: tuple[Any, Any] | None = None
        self._results = client.stream_mediate_batch(
            game, self._batches(), mediator=mediator, **kwargs
        )

    def _batches(self) -> Iterator[tuple[Any, Any]]:
        while self._pending is not None:
            item, self._pending = self._pending, None
            yield item

    def __call__(self, actions: Any, delegate: Any) -> Any:
        self._pending = (actions, delegate)
        return next(self._results)

    def close(self) -> None:
        self._results.close()


class StreamingBackend:
    """A :class:`MechsolveClient` whose ``mediate_batch`` rides one stream per (game,
    mediator); everything else is the client's own method."""

    def __init__(self, client: Any) -> None:
        self._client = client
        # keyed by the game's id; the game is kept alive with its session, so no later game
        # can take the same id while the stream is open
        self._sessions: dict[tuple[int, str, tuple[Any, ...]], tuple[Any, _StreamSession]] = {}

    def mediate_batch(
        self, game: Any, actions: Any, delegate: Any, *, mediator: str = "pareto", **kwargs: Any
    ) -> Any:
        key = (id(game), mediator, tuple(sorted(kwargs.items())))
        if key not in self._sessions:
            self._sessions[key] = (game, _StreamSession(self._client, game, mediator, kwargs))
        return self._sessions[key][1](actions, delegate)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def close(self) -> None:
        for _, session in self._sessions.values():
            session.close()
        self._sessions.clear()


@contextlib.contextmanager
def open_backend(kind: str = "in-process", address: str | None = None) -> Iterator[Any]:
    """A backend of ``kind`` (:data:`BACKENDS`); the remote ones talk to ``address``, or to a
    server started here on a free loopback port for the duration when it is ``None``."""
    kind = v.choice("open_backend", "kind", kind, BACKENDS)
    if kind == "in-process":
        from ..local import LocalMechsolve

        yield LocalMechsolve()
        return
    with contextlib.ExitStack() as stack:
        if address is None:
            address = stack.enter_context(local_server())
        from ..grpc_client import MechsolveClient

        client = stack.enter_context(MechsolveClient(address, default_time_limit=600.0))
        client.wait_until_serving(time_limit=60.0)
        if kind == "grpc":
            yield client
            return
        backend = StreamingBackend(client)
        try:
            yield backend
        finally:
            backend.close()


@contextlib.contextmanager
def local_server() -> Iterator[str]:
    """A mechsolve server in this process on a free loopback port; yields its address."""
    from mechsolve.server.app import build_server
    from mechsolve.server.config import ServerConfig
    from mechsolve.server.logs import configure

    configure("text", "WARNING")
    running = build_server(ServerConfig(port=0, max_solve_seconds=600.0))
    try:
        yield running.address
    finally:
        running.stop(grace=1.0)
