"""The codec: a declared RPC's arguments <-> its request message, its result <-> its response
message, by name and by type (rules in :mod:`.values`; own codecs in :mod:`.types`).

    request = encode_request(rpc, {"game": g, "actions": a, "delegate": d})   # client
    kwargs = decode_request(rpc, request, limits)                            # server
    response = encode_result(rpc, rpc.function(**kwargs))                    # server
    result = decode_result(rpc, response)                                    # client
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from mechsolve.api.declare import Rpc
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits

from . import types as _types  # noqa: F401  (registers the message codecs)
from .values import MISSING, Context, decode_field, encode_field, hints, mirror_problems

UNLIMITED = Limits(
    **{name: 1 << 62 for name in Limits.__dataclass_fields__ if name.startswith("max_")}
)
"""What a client builds with: the server checks the sizes."""

__all__ = [
    "UNLIMITED",
    "decode_request",
    "decode_result",
    "encode_request",
    "encode_result",
    "mirror_problems",
]


def encode_request(rpc: Rpc, arguments: dict[str, Any], function: str | None = None) -> Message:
    """The request message for a call's bound arguments (validated; errors name ``function``,
    by default the RPC's, and the argument as the solver would:
    ``mediate(): `actions[0]` must be an integer; got 0.5``)."""
    ctx = Context(function or rpc.function.__name__, UNLIMITED, request=True)
    msg = rpc.request()
    annotations = hints(rpc.function)
    for name, fd in rpc.arguments.items():
        if name in arguments:
            _refuse_empty_for_default(rpc, name, fd, arguments[name], ctx)
            encode_field(msg, fd, arguments[name], annotations.get(name, Any), name, ctx)
    return msg


def _refuse_empty_for_default(rpc: Rpc, name: str, fd: Any, value: Any, ctx: Context) -> None:
    """An empty list or string the caller gave would arrive as "not set", i.e. as the
    argument's default: refuse it here, as the solver would refuse it in-process."""
    default = rpc.signature.parameters[name].default
    if default is rpc.signature.empty or fd.has_presence or fd.message_type is not None:
        return
    empty = value == "" if isinstance(value, str) else hasattr(value, "__len__") and len(value) == 0
    if empty and (default is not None or isinstance(value, str)):
        raise MechsolveInputError(
            ctx.function,
            name,
            f"must not be empty (empty means the default {default!r}); got {value!r}",
        )


def decode_request(
    rpc: Rpc, msg: Message, limits: Limits, supplied: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The solver function's keyword arguments for a request (sizes checked against
    ``limits`` first); an unset field leaves the function's default, a missing required one
    is an input error naming the field. ``supplied`` arguments (already decoded, e.g. a game
    read once from a file for a million records) are taken as they are, their fields unread."""
    ctx = Context(rpc.function.__name__, limits, request=True)
    annotations = hints(rpc.function)
    kwargs: dict[str, Any] = dict(supplied or {})
    for name, fd in rpc.arguments.items():
        if name in kwargs:
            continue
        value = decode_field(msg, fd, annotations.get(name, Any), fd.name, ctx)
        if value is MISSING:
            if rpc.signature.parameters[name].default is rpc.signature.empty:
                raise MechsolveInputError(ctx.function, fd.name, "is required")
            continue
        kwargs[name] = value
    return kwargs


def encode_result(rpc: Rpc, result: Any) -> Message:
    """The response message carrying ``result``."""
    ctx = Context(rpc.function.__name__, UNLIMITED, request=False)
    msg = rpc.response()
    encode_field(msg, rpc.result_field, result, hints(rpc.function)["return"], "result", ctx)
    return msg


def decode_result(rpc: Rpc, msg: Message) -> Any:
    """The solver's result from a response message."""
    ctx = Context(rpc.function.__name__, UNLIMITED, request=False)
    return decode_field(msg, rpc.result_field, hints(rpc.function)["return"], "result", ctx)
