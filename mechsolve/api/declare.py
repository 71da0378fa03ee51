"""One declaration per RPC: which solver function a request message calls. Everything else
derives from it:

- the RPC's name, service, path and response message (from the request message and the
  ``rpc`` of the ``.proto`` file);
- the request's fields (one per argument of the function, same name unless ``fields`` says
  otherwise) and the response's ``result`` field (the function's return value);
- the servicer method (:mod:`mechsolve.server.servicer`), the sync, asyncio and in-process
  client methods with the function's own signature, defaults, return type and docstring
  (:mod:`mechsolve.client.methods`), the field paths named in errors;
- the registration (every ``RPCS`` tuple of the modules of :mod:`mechsolve.api` is served);
- the contract tests (``tests/test_contract.py``).

The caller never sends ``limits`` (the server's, or ``LocalMechsolve``'s) and sends
``time_limit`` as the call's deadline (:data:`SERVER_ARGUMENTS`, :data:`DEADLINE_ARGUMENT`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

SERVER_ARGUMENTS = frozenset({"limits"})
"""Arguments the server (or ``LocalMechsolve``) supplies; callers never send them."""
DEADLINE_ARGUMENT = "time_limit"
"""The argument that travels as the call's deadline (the solver gets what remains of it less a
reserve to answer in time)."""
STREAM_TIME_LIMIT_METADATA = "mechsolve-time-limit"
"""Metadata of a streaming call: the seconds each message may take (its ``time_limit``)."""


def api_signature(function: Callable[..., Any]) -> inspect.Signature:
    """The signature every client method of ``function`` has: the solver's own, without the
    server's arguments and private (``_``) ones."""
    sig = inspect.signature(function)
    keep = [
        p
        for p in sig.parameters.values()
        if p.name not in SERVER_ARGUMENTS and not p.name.startswith("_")
    ]
    return sig.replace(parameters=keep)


@dataclass(frozen=True)
class Alias:
    """Another solver function the same RPC serves: ``function(**args)`` equals
    ``rpc.function(**args, **fixed)`` (its arguments are a subset of the RPC function's)."""

    function: Callable[..., Any]
    fixed: Mapping[str, Any]


@dataclass(frozen=True)
class Vectorized:
    """Many calls of an RPC that differ only in the ``stacked`` arguments are one call of
    ``of`` (``mechsolve batch`` solves recorded profiles this way): each stacked argument
    gains a leading axis with one row per call, and ``row(result, i)`` is call ``i``'s result,
    equal to what the RPC returns for it alone (timing aside; a contract test checks it)."""

    of: Rpc
    stacked: tuple[str, ...]
    row: Callable[[Any, int], Any]


class _Declared:
    """What an RPC's name, service, path and signature derive from: its solver function and
    its request message."""

    function: Callable[..., Any]
    request: type[Message]

    @property
    def name(self) -> str:
        return str(self.request.DESCRIPTOR.name).removesuffix("Request")

    @cached_property
    def method(self) -> Any:
        """The ``rpc`` of the ``.proto`` file with :attr:`name` (a ``MethodDescriptor``)."""
        file = self.request.DESCRIPTOR.file
        for service in file.services_by_name.values():
            for method in service.methods:
                if method.name == self.name:
                    return method
        raise LookupError(f"no rpc {self.name} in {file.name}")

    @cached_property
    def response(self) -> type[Message]:
        """The generated class of the ``rpc``'s response message (``XResponse``)."""
        return GetMessageClass(self.method.output_type)

    @property
    def service(self) -> str:
        return str(self.method.containing_service.full_name)

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"

    @cached_property
    def signature(self) -> inspect.Signature:
        return api_signature(self.function)


@dataclass(frozen=True, eq=False)
class Rpc(_Declared):
    """A unary RPC.

    Attributes:
        function: the solver function (its signature, defaults and docstring are the API's).
        request: the generated request message class (``XRequest``; the response class is
            the ``rpc``'s output, :attr:`response`).
        fields: argument -> request field, where the names differ.
        aliases: other solver functions served by this RPC (partial applications).
        inline: when it holds for a request, the server answers on its event loop (cheap
            requests: no hand-off to the solve pool).
        example: a valid call's arguments, used by the contract tests and the docs.
        errors: the request field that the solver's errors name when their argument is not
            one of the function's (e.g. ``"header"`` of a parsed ``text``).
        vectorized: how many calls are solved as one (:class:`Vectorized`), if they can be.
    """

    function: Callable[..., Any]
    request: type[Message]
    fields: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[Alias, ...] = ()
    inline: Callable[[Any], bool] | None = None
    example: Callable[[], dict[str, Any]] | None = None
    errors: str | None = None
    vectorized: Vectorized | None = None

    @cached_property
    def arguments(self) -> dict[str, Any]:
        """Each argument sent on the wire and its request field."""
        by_name = self.request.DESCRIPTOR.fields_by_name
        return {
            p: by_name[self.fields.get(p, p)]
            for p in self.signature.parameters
            if p != DEADLINE_ARGUMENT
        }

    @cached_property
    def result_field(self) -> Any:
        return self.response.DESCRIPTOR.fields_by_name["result"]

    @property
    def takes_time_limit(self) -> bool:
        return DEADLINE_ARGUMENT in self.signature.parameters

    @cached_property
    def takes_limits(self) -> bool:
        return "limits" in inspect.signature(self.function).parameters

    def call(self, arguments: dict[str, Any], limits: Any, seconds: float | None) -> Any:
        """The solver function on the caller's ``arguments``, with the server's ``limits`` and
        ``seconds`` as its time limit (where it takes them)."""
        extra: dict[str, Any] = {"limits": limits} if self.takes_limits else {}
        if self.takes_time_limit:
            extra[DEADLINE_ARGUMENT] = seconds
        return self.function(**arguments, **extra)

    def field_path(self, argument: str) -> str:
        """The request field a solver error's argument names: ``actions[2]`` -> ``actions[2]``,
        ``known[0][1]`` -> ``known_utilities[0][1]``; a path with a dot is already a field path."""
        token = argument.split(" ")[0]
        base = token.split("[")[0]
        if "." in base:
            return token
        if base not in self.arguments:
            return self.errors or token
        return self.arguments[base].name + token[len(base) :]


@dataclass(frozen=True, eq=False)
class Stream(_Declared):
    """A bidirectional streaming RPC that applies a unary RPC to each message, in order.

    ``function`` is the solver's generator over ``batches`` (for ``LocalMechsolve`` and the
    signatures); each element of ``batches`` supplies the ``per_message`` arguments of ``of``,
    the other arguments are the same for every message. The request and response messages
    wrap ``of``'s request (field ``batch``) and result (field ``result``).
    """

    function: Callable[..., Any]
    of: Rpc
    request: type[Message]
    per_message: tuple[str, ...]
    example: Callable[[], dict[str, Any]] | None = None

    aliases: tuple[Alias, ...] = ()

    @property
    def batches_argument(self) -> str:
        """The argument of ``function`` that holds the per-message tuples."""
        shared = set(self.of.signature.parameters)
        return next(p for p in self.signature.parameters if p not in shared)

    def field_path(self, argument: str) -> str:
        """The field of a message's error: ``batch.<field>`` (or the metadata key)."""
        if argument == STREAM_TIME_LIMIT_METADATA or not argument:
            return argument
        return f"batch.{self.of.field_path(argument)}"
