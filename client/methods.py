"""The client methods, made from the declarations in :mod:`mechsolve.api`: one per solver
function (each RPC's and its aliases'), with the function's own signature (less ``limits``,
which the server or ``LocalMechsolve`` holds), defaults, return type and docstring.

- :class:`SyncMethods` and :class:`AsyncMethods` send the call (``time_limit`` is its deadline;
  ``None`` means the client's ``default_time_limit``); the clients supply ``_unary`` and
  ``_stream``.
- :class:`LocalMethods` calls the solver function in this process with ``self.limits``.

``methods.pyi`` (made by ``scripts/gen_client_stubs.py``, checked by the tests) spells the
methods out for type checkers and editors.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from mechsolve.api import RPCS, Rpc, Stream, api_signature


class SyncMethods:
    """Every API method, blocking."""

    def _unary(self, rpc: Rpc, arguments: dict[str, Any], name: str) -> Any:
        raise NotImplementedError

    def _stream(self, stream: Stream, arguments: dict[str, Any]) -> Iterator[Any]:
        raise NotImplementedError


class AsyncMethods:
    """Every API method, for asyncio (``await client.mediate(...)``; a stream is an async
    iterator)."""

    async def _unary(self, rpc: Rpc, arguments: dict[str, Any], name: str) -> Any:
        raise NotImplementedError

    def _stream(self, stream: Stream, arguments: dict[str, Any]) -> Any:
        raise NotImplementedError


class LocalMethods:
    """Every API method, in this process."""

    limits: Any


def _arguments(
    sig: inspect.Signature, args: Any, kwargs: Any, fixed: dict[str, Any]
) -> dict[str, Any]:
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return {**bound.arguments, **fixed}


def _describe(method: Any, function: Callable[..., Any], sig: inspect.Signature) -> Any:
    """Give ``method`` the solver function's name, docstring and signature (with ``self``)."""
    method.__name__ = method.__qualname__ = function.__name__
    method.__doc__ = function.__doc__
    method.__module__ = function.__module__
    params = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY),
        *sig.parameters.values(),
    ]
    method.__signature__ = sig.replace(parameters=params)
    return method


def _remote(
    rpc: Rpc | Stream, function: Callable[..., Any], fixed: dict[str, Any], asynchronous: bool
) -> Any:
    sig = api_signature(function)
    if isinstance(rpc, Stream):

        def stream(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self._stream(rpc, _arguments(sig, args, kwargs, fixed))

        method: Any = stream
    elif asynchronous:

        async def unary_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            return await self._unary(rpc, _arguments(sig, args, kwargs, fixed), function.__name__)

        method = unary_async
    else:

        def unary(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self._unary(rpc, _arguments(sig, args, kwargs, fixed), function.__name__)

        method = unary
    return _describe(method, function, sig)


def _local(function: Callable[..., Any]) -> Any:
    sig = api_signature(function)
    takes_limits = "limits" in inspect.signature(function).parameters

    def local(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = sig.bind(*args, **kwargs)
        extra = {"limits": self.limits} if takes_limits else {}
        return function(*bound.args, **bound.kwargs, **extra)

    return _describe(local, function, sig)


def served_functions() -> Iterator[tuple[Rpc | Stream, Callable[..., Any], dict[str, Any]]]:
    """``(rpc, solver function, fixed arguments)`` for every client method."""
    for rpc in RPCS:
        yield rpc, rpc.function, {}
        for alias in rpc.aliases:
            yield rpc, alias.function, dict(alias.fixed)


for _rpc, _function, _fixed in served_functions():
    setattr(SyncMethods, _function.__name__, _remote(_rpc, _function, _fixed, asynchronous=False))
    setattr(AsyncMethods, _function.__name__, _remote(_rpc, _function, _fixed, asynchronous=True))
    setattr(LocalMethods, _function.__name__, _local(_function))
