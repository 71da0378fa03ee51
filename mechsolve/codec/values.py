"""Python values <-> protobuf fields, by name and by type, in both directions.

The rules (docs/api.md, "The wire"):

- A message mirrors a dataclass field by field, by name (``MediatorResult`` <-> its message).
- An ``ndarray`` is a repeated scalar field (1-d) or a ``Tensor``/``Int64Tensor``/``BoolTensor``
  message (any shape); tuples and lists are repeated fields.
- An enum (or a string with fixed choices) is a proto enum whose value names are the
  enum's prefix plus the member name (``MediatorKind.PARETO`` <-> ``MEDIATOR_KIND_PARETO``,
  ``"min_cost_flow"`` <-> ``RESTAURANT_METHOD_MIN_COST_FLOW``); ``*_UNSPECIFIED`` is "not set".
- "Not set" (an unset message or ``optional`` scalar, an empty repeated field, an
  ``UNSPECIFIED`` enum, an empty string for an argument that defaults to ``None``) means the
  solver function's default; an argument without a default must be set.
- A few message types have their own codec (:mod:`.types`): ``Game``, ``Prior``, tensors.

Requests are encoded on the client (validated: an integer field refuses ``0.5``, a float field
``nan``) and decoded on the server (sizes checked against the server's limits before anything
of that size is built). Results go the other way, unvalidated (a ``nan`` objective is a value).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.core.results import readonly

MISSING: Any = object()
"""A field that is not set: the argument's default applies."""

_INT_TYPES = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_UINT32,
}
_UNSIGNED = {FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_UINT32}
_BITS = {
    FieldDescriptor.TYPE_UINT32: 32,
    FieldDescriptor.TYPE_UINT64: 64,
    FieldDescriptor.TYPE_INT32: 31,
}


@dataclass(frozen=True)
class Context:
    """Who is converting: the function named in errors, the limits that bound what a request
    may build, and whether values come from a caller (``request``: validated strictly)."""

    function: str
    limits: Limits
    request: bool


class MessageCodec:
    """A message type with its own Python type (``Game`` <-> ``NormalFormGame``)."""

    collapse_single = False
    """A repeated field holding one element decodes to that element unless the argument is
    annotated as a sequence (``priors``: one prior shared by every bidder)."""

    def encode(self, value: Any, msg: Message, path: str, ctx: Context) -> None:
        raise NotImplementedError

    def decode(self, msg: Message, path: str, ctx: Context) -> Any:
        raise NotImplementedError


CODECS: dict[str, MessageCodec] = {}
"""Message full name -> its codec (filled by :mod:`.types`)."""
COERCE: dict[type, Callable[[str, str, Any], Any]] = {}
"""Dataclass -> ``(function, path, value) -> instance`` for shorthands (``"nash"`` -> a
``Welfare``)."""


# -- annotations -------------------------------------------------------------------------------
# (annotations and descriptors are few and hashable: what is read from them is cached)


@functools.cache
def hints(obj: Any) -> dict[str, Any]:
    """Evaluated annotations of a function or dataclass."""
    return typing.get_type_hints(obj)


@functools.cache
def members(annotation: Any) -> tuple[Any, ...]:
    """The members of a union (the annotation itself otherwise)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


@functools.cache
def optional(annotation: Any) -> bool:
    return type(None) in members(annotation)


def _pick(annotation: Any, test: Callable[[Any], bool]) -> Any:
    for m in members(annotation):
        if isinstance(m, type) and test(m):
            return m
    return None


@functools.cache
def _dataclass(annotation: Any) -> Any:
    return _pick(annotation, dataclasses.is_dataclass)


@functools.cache
def _enum(annotation: Any) -> Any:
    return _pick(annotation, lambda m: issubclass(m, enum.Enum))


@functools.cache
def _element(annotation: Any) -> tuple[Any, bool]:
    """``(element annotation, is a sequence annotation)`` of ``tuple[X, ...]``, ``list[X]``,
    ``Sequence[X]``, ``tuple[X, Y]`` (``(Any, False)`` otherwise)."""
    for m in members(annotation):
        origin = typing.get_origin(m)
        if origin in (tuple, list, Sequence):
            args = [a for a in typing.get_args(m) if a is not Ellipsis]
            return (args[0] if args else Any), True
    return Any, False


@functools.cache
def _array(annotation: Any) -> bool:
    return any(typing.get_origin(m) is np.ndarray or m is np.ndarray for m in members(annotation))


@functools.cache
def _dtype(fd: FieldDescriptor) -> Any:
    if fd.type == FieldDescriptor.TYPE_BOOL:
        return np.bool_
    return np.int64 if fd.type in _INT_TYPES else np.float64


# -- enums -------------------------------------------------------------------------------------


@functools.cache
def _prefix(ed: EnumDescriptor) -> str:
    return ed.values_by_number[0].name.removesuffix("UNSPECIFIED")


def enum_number(ed: EnumDescriptor, value: Any, path: str, ctx: Context) -> int:
    """The proto number of an enum member or a choice string."""
    name = value.name if isinstance(value, enum.Enum) else str(value).upper()
    ev = ed.values_by_name.get(_prefix(ed) + name) if isinstance(value, str | enum.Enum) else None
    if ev is None or ev.number == 0:
        listed = ", ".join(repr(e.name[len(_prefix(ed)) :].lower()) for e in ed.values[1:])
        raise MechsolveInputError(ctx.function, path, f"must be one of {listed}; got {value!r}")
    return int(ev.number)


def expand_short_forms(descriptor: Any, data: Any) -> Any:
    """A proto3 JSON object for ``descriptor`` with the codec's short forms expanded, in nested
    messages too: short enum names (``"milp"``, ``"punishing"``) to the proto names
    (``"MEDIATOR_METHOD_MILP"``), and a tensor given as a nested list (``[[1, 2], [3, 4]]``)
    to its ``{"shape": [2, 2], "values": [1, 2, 3, 4]}``. Anything else is left for the JSON
    parser to accept or refuse; a ragged nested list is a ``ValueError`` naming the field."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for key, value in data.items():
        fd = descriptor.fields_by_name.get(key) or descriptor.fields_by_camelcase_name.get(key)
        if fd is None:
            continue
        if fd.enum_type is not None:
            out[key] = (
                [_full_name(fd.enum_type, v) for v in value]
                if isinstance(value, list)
                else _full_name(fd.enum_type, value)
            )
        elif fd.message_type is not None and _is_tensor(fd.message_type):
            if fd.is_repeated and isinstance(value, list):
                out[key] = [
                    _tensor_object(f"{key}[{i}]", v) if isinstance(v, list) else v
                    for i, v in enumerate(value)
                ]
            else:
                out[key] = _tensor_object(key, value) if isinstance(value, list) else value
        elif fd.message_type is not None and not fd.message_type.GetOptions().map_entry:
            out[key] = (
                [expand_short_forms(fd.message_type, v) for v in value]
                if isinstance(value, list)
                else expand_short_forms(fd.message_type, value)
            )
    return out


def _is_tensor(md: Descriptor) -> bool:
    """A dense tensor message (``Tensor``, ``Int64Tensor``, ``BoolTensor``): ``shape`` and
    C-order ``values``, nothing else."""
    return set(md.fields_by_name) == {"shape", "values"}


def _tensor_object(key: str, value: list[Any]) -> dict[str, Any]:
    """``{"shape", "values"}`` of a rectangular nested list (C order)."""
    shape: list[int] = []
    level: list[Any] = [value]
    while level and all(isinstance(x, list) for x in level):
        widths = {len(x) for x in level}
        if len(widths) != 1:
            raise ValueError(f"`{key}` is a nested list with rows of different lengths")
        shape.append(widths.pop())
        level = [y for x in level for y in x]
    if any(isinstance(x, list) for x in level):
        raise ValueError(f"`{key}` is a nested list with rows of different depths")
    return {"shape": shape, "values": level}


def _full_name(ed: EnumDescriptor, value: Any) -> Any:
    if not isinstance(value, str) or value in ed.values_by_name:
        return value
    full = _prefix(ed) + value.upper()
    return full if full in ed.values_by_name else value


def enum_value(ed: EnumDescriptor, number: int, annotation: Any, path: str, ctx: Context) -> Any:
    """The Python value of a proto enum number (:data:`MISSING` for ``UNSPECIFIED``)."""
    ev = ed.values_by_number.get(number)
    if ev is None:
        raise MechsolveInputError(
            ctx.function, path, f"is not a known {ed.name} value; got {number}"
        )
    if number == 0:
        return None if optional(annotation) and not ctx.request else MISSING
    name = ev.name[len(_prefix(ed)) :]
    cls = _enum(annotation)
    return cls[name] if cls is not None else name.lower()


# -- scalars and arrays ------------------------------------------------------------------------


def _scalar_in(fd: FieldDescriptor, value: Any, path: str, ctx: Context) -> Any:
    """A caller's scalar for ``fd``, checked: a bool is a bool, an integer an integer in range,
    a float finite."""
    if fd.type == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool | np.bool_):
            raise MechsolveInputError(ctx.function, path, f"must be True or False; got {value!r}")
        return bool(value)
    if fd.type in _INT_TYPES:
        low = 0 if fd.type in _UNSIGNED else -(1 << 63)
        n = v.positive_int(ctx.function, path, value, minimum=low) if ctx.request else int(value)
        if n >= 1 << _BITS.get(fd.type, 63):
            raise MechsolveInputError(
                ctx.function, path, f"must be below 2**{_BITS.get(fd.type, 63)}; got {n}"
            )
        return n
    if fd.type == FieldDescriptor.TYPE_DOUBLE:
        return v.real(ctx.function, path, value) if ctx.request else float(value)
    if not isinstance(value, str):
        raise MechsolveInputError(ctx.function, path, f"must be a string; got {value!r}")
    return value


def array_in(dtype: Any, value: Any, path: str, ctx: Context) -> np.ndarray:
    """A caller's array (validated in request mode: integers are integral, bools 0/1, floats
    finite), or a result's array as it is."""
    if not ctx.request:
        return np.asarray(value, dtype=dtype)
    if dtype is np.bool_:
        return v.bool_array(ctx.function, path, value)
    if dtype is np.int64:
        return v.int_array(ctx.function, path, value, allow_empty=True)
    return v.float_array(ctx.function, path, value, allow_empty=True)


def _repeated_scalars(fd: FieldDescriptor, items: Any, annotation: Any) -> Any:
    if fd.type == FieldDescriptor.TYPE_STRING:
        return tuple(str(x) for x in items)
    _, is_sequence = _element(annotation)
    if len(items) == 1 and float in members(annotation):  # "a number, or one per item"
        return float(items[0])
    if is_sequence and not _array(annotation):
        cast = {np.bool_: bool, np.int64: int, np.float64: float}[_dtype(fd)]
        return tuple(cast(x) for x in items)
    return readonly(np.array(items, dtype=_dtype(fd)))


# -- fields ------------------------------------------------------------------------------------


def encode_field(
    msg: Message, fd: Any, value: Any, annotation: Any, path: str, ctx: Context
) -> None:
    """Set ``msg.<fd>`` from ``value`` (``None`` leaves it unset)."""
    if value is None:
        return
    target: Any = getattr(msg, fd.name) if fd.is_repeated or fd.message_type else None
    if fd.is_repeated and fd.message_type is not None:
        element, _ = _element(annotation)
        items = value if isinstance(value, list | tuple) else [value]
        for i, item in enumerate(items):
            encode_message(
                target.add(),
                item,
                element if element is not Any else annotation,
                f"{path}[{i}]",
                ctx,
            )
    elif fd.is_repeated and fd.type == FieldDescriptor.TYPE_STRING:
        items = [value] if isinstance(value, str) else list(value)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise MechsolveInputError(
                    ctx.function, f"{path}[{i}]", f"must be a string; got {item!r}"
                )
        target.extend(items)
    elif fd.is_repeated:
        arr = array_in(_dtype(fd), value, path, ctx)
        if arr.ndim == 0 and float in members(annotation):  # one number: a one-value field
            arr = arr.reshape(1)
        if arr.ndim > 1:
            raise MechsolveInputError(
                ctx.function, path, f"must be one-dimensional; got shape {arr.shape}"
            )
        if fd.type in _UNSIGNED and arr.size and arr.min() < 0:
            raise MechsolveInputError(ctx.function, path, f"must be >= 0; got {arr.min()}")
        target.extend(arr.tolist())
    elif fd.message_type is not None:
        target.SetInParent()
        encode_message(target, value, annotation, path, ctx)
    elif fd.enum_type is not None:
        setattr(msg, fd.name, enum_number(fd.enum_type, value, path, ctx))
    else:
        setattr(msg, fd.name, _scalar_in(fd, value, path, ctx))


def decode_field(msg: Message, fd: Any, annotation: Any, path: str, ctx: Context) -> Any:
    """The value of ``msg.<fd>``; :data:`MISSING` when it is not set and a request is decoded
    (the argument's default applies), ``None`` for an unset optional result field."""
    unset = None if optional(annotation) else MISSING
    if fd.is_repeated:
        items = getattr(msg, fd.name)
        if not items and (ctx.request or optional(annotation)):
            return unset
        if fd.message_type is None:
            return _repeated_scalars(fd, items, annotation)
        element, is_sequence = _element(annotation)
        inner = element if is_sequence else annotation
        out = [decode_message(x, inner, f"{path}[{i}]", ctx) for i, x in enumerate(items)]
        codec = CODECS.get(fd.message_type.full_name)
        if codec is not None and codec.collapse_single and len(out) == 1 and not is_sequence:
            return out[0]
        return tuple(out) if is_sequence else out
    if fd.message_type is not None:
        if not msg.HasField(fd.name):
            return unset
        return decode_message(getattr(msg, fd.name), annotation, path, ctx)
    if fd.enum_type is not None:
        return enum_value(fd.enum_type, getattr(msg, fd.name), annotation, path, ctx)
    if fd.has_presence:
        return getattr(msg, fd.name) if msg.HasField(fd.name) else unset
    value = getattr(msg, fd.name)
    if ctx.request and optional(annotation) and value == fd.default_value:
        return MISSING  # "" for an argument that defaults to None
    return value


# -- messages ----------------------------------------------------------------------------------


def encode_message(msg: Message, value: Any, annotation: Any, path: str, ctx: Context) -> None:
    """Fill ``msg`` from ``value``: its own codec, or a dataclass field by field."""
    codec = CODECS.get(msg.DESCRIPTOR.full_name)
    if codec is not None:
        codec.encode(value, msg, path, ctx)
        return
    cls = _dataclass(annotation) or type(value)
    if not isinstance(value, cls) and cls in COERCE:
        value = COERCE[cls](ctx.function, path, value)
    if not isinstance(value, cls) or not dataclasses.is_dataclass(value):
        raise MechsolveInputError(
            ctx.function, path, f"must be a {cls.__name__}; got {type(value).__name__}"
        )
    fields = hints(type(value))  # type: ignore[arg-type]
    for fd in msg.DESCRIPTOR.fields:
        encode_field(msg, fd, getattr(value, fd.name), fields[fd.name], f"{path}.{fd.name}", ctx)


def decode_message(msg: Message, annotation: Any, path: str, ctx: Context) -> Any:
    """The Python value of ``msg``: its own codec, or the annotation's dataclass."""
    codec = CODECS.get(msg.DESCRIPTOR.full_name)
    if codec is not None:
        return codec.decode(msg, path, ctx)
    cls = _dataclass(annotation)
    if cls is None:
        raise TypeError(f"no dataclass for message {msg.DESCRIPTOR.full_name} in {annotation}")
    fields = hints(cls)
    kwargs = {}
    for fd in msg.DESCRIPTOR.fields:
        value = decode_field(msg, fd, fields[fd.name], f"{path}.{fd.name}", ctx)
        if value is not MISSING:
            kwargs[fd.name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field of the dataclass was not set
        raise MechsolveInputError(ctx.function, path, f"is incomplete: {exc}") from exc


def mirror_problems(descriptor: Descriptor, cls: Any) -> list[str]:
    """Where a message and the dataclass it mirrors disagree on field names (for the tests)."""
    names = {f.name for f in dataclasses.fields(cls)}
    fields = set(descriptor.fields_by_name)
    return [f"{descriptor.full_name} lacks {n}" for n in sorted(names - fields)] + [
        f"{cls.__name__} lacks {n}" for n in sorted(fields - names)
    ]
