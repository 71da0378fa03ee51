"""Hypothesis strategies for hostile requests, made from the message descriptors of every
declared RPC (a new RPC is fuzzed without writing anything):

- ``random``: any message of the request type, every field any value its wire type can
  carry (integer extremes, NaN, infinities, 1e308, subnormals, undefined enum numbers,
  tensors whose shapes do or do not match their values, nested messages, oneofs);
- ``mutated``: the RPC's valid example with one to three fields (at any depth) replaced so;
- ``bytes``: random bytes, or the example's bytes truncated, with bytes flipped or inserted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

from mechsolve import codec
from mechsolve.api import RPCS, Rpc, Stream

F = FieldDescriptor
MAX_DEPTH = 3

INT32 = [0, 1, -1, 2, 3, 16, 17, 100, 2**31 - 1, -(2**31)]
UINT32 = [0, 1, 2, 3, 4, 16, 17, 33, 100, 1 << 20, 2**31, 2**32 - 1]
INT64 = [*INT32, 2**53 + 1, 2**63 - 1, -(2**63)]
UINT64 = [*UINT32, 2**53 + 1, 2**63, 2**64 - 1]
REALS = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-12, 5e-324, 1e12, 1e308, -1e308]
REALS += [float("nan"), float("inf"), float("-inf")]
TEXTS = [
    "",
    "pareto",
    "milp",
    "nash",
    "NFG 1 R",
    'NFG 1 R "t" { "a" "b" } { 2 2 }\n1 2 3 4 5 6 7 8',
]
TEXTS += ["\x00", "é" * 40, "x" * 300]


def _ints(special: list[int], lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(special), st.integers(lo, hi))


def scalar(field: F) -> st.SearchStrategy[Any]:
    """Any value the field's wire type can carry."""
    t = field.type
    if t in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32):
        return _ints(INT32, -(2**31), 2**31 - 1)
    if t in (F.TYPE_UINT32, F.TYPE_FIXED32):
        return _ints(UINT32, 0, 2**32 - 1)
    if t in (F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_SFIXED64):
        return _ints(INT64, -(2**63), 2**63 - 1)
    if t in (F.TYPE_UINT64, F.TYPE_FIXED64):
        return _ints(UINT64, 0, 2**64 - 1)
    if t in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        reals = st.floats(
            allow_nan=True, allow_infinity=True, width=64 if t == F.TYPE_DOUBLE else 32
        )
        return st.one_of(st.sampled_from(REALS if t == F.TYPE_DOUBLE else REALS[:7]), reals)
    if t == F.TYPE_BOOL:
        return st.booleans()
    if t == F.TYPE_STRING:
        return st.one_of(st.sampled_from(TEXTS), st.text(max_size=40))
    if t == F.TYPE_BYTES:
        return st.binary(max_size=40)
    if t == F.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(numbers), st.integers(-3, max(numbers) + 3))
    raise AssertionError(f"no strategy for {field.full_name}")


def _is_tensor(desc: Descriptor) -> bool:
    return {f.name for f in desc.fields} == {"shape", "values"}


@st.composite
def _tensor(draw: Any, desc: Descriptor) -> Message:
    """A tensor message: usually values that fill its shape, sometimes not, sometimes huge
    or many dimensions."""
    cls = message_class(desc)
    values_field = desc.fields_by_name["values"]
    kind = draw(st.sampled_from(["fits", "fits", "fits", "mismatch", "huge", "deep"]))
    if kind == "deep":
        shape = [1] * draw(st.integers(33, 80))
    elif kind == "huge":
        shape = [draw(st.sampled_from([2**31, 2**32 - 1, 1 << 20])), draw(st.integers(0, 3))]
    else:
        shape = draw(st.lists(st.integers(0, 5), min_size=0, max_size=4))
    size = int(np.prod(shape)) if kind in ("fits", "mismatch") else 1
    if kind == "mismatch":
        size = draw(st.integers(0, 12).filter(lambda n: n != size))
    values = draw(st.lists(scalar(values_field), min_size=min(size, 200), max_size=min(size, 200)))
    return cls(shape=shape, values=values)


_CLASSES: dict[str, type[Message]] = {}


def message_class(desc: Descriptor) -> type[Message]:
    if desc.full_name not in _CLASSES:
        _CLASSES[desc.full_name] = message_factory.GetMessageClass(desc)
    return _CLASSES[desc.full_name]


def value(field: F, depth: int) -> st.SearchStrategy[Any]:
    """A value for one (non-repeated) field, or one element of a repeated field."""
    if field.type != F.TYPE_MESSAGE:
        return scalar(field)
    if _is_tensor(field.message_type):
        return _tensor(field.message_type)
    return message(field.message_type, depth + 1)


def message(desc: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Any message of type ``desc``: each field set or not (one member of each oneof)."""
    if depth > MAX_DEPTH:
        return st.just(message_class(desc)())
    return _message(desc, depth)


@st.composite
def _message(draw: Any, desc: Descriptor, depth: int) -> Message:
    msg = message_class(desc)()
    oneofs_done: set[str] = set()
    for field in desc.fields:
        group = field.containing_oneof
        if group is not None and not group.name.startswith("_"):  # a real oneof: one member
            if group.name in oneofs_done or not draw(st.booleans()):
                continue
            oneofs_done.add(group.name)
        elif not draw(st.booleans()):
            continue
        set_field(msg, field, draw, depth)
    return msg


def set_field(msg: Message, field: F, draw: Any, depth: int) -> None:
    """Give ``field`` of ``msg`` a drawn value (a list for a repeated field)."""
    if field.is_repeated:
        items = draw(st.lists(value(field, depth), max_size=6 if depth else 8))
        container: Any = getattr(msg, field.name)
        del container[:]
        if field.type == F.TYPE_MESSAGE:
            for item in items:
                container.add().CopyFrom(item)
        else:
            container.extend(items)
    elif field.type == F.TYPE_MESSAGE:
        getattr(msg, field.name).CopyFrom(draw(value(field, depth)))
    else:
        setattr(msg, field.name, draw(value(field, depth)))


def _fields_of(msg: Message, depth: int = 0) -> list[tuple[Message, F]]:
    """Every field (set or not) of ``msg`` and of the messages set in it."""
    out = [(msg, f) for f in msg.DESCRIPTOR.fields]
    if depth >= MAX_DEPTH:
        return out
    for f in msg.DESCRIPTOR.fields:
        if f.type != F.TYPE_MESSAGE:
            continue
        if f.is_repeated:
            for item in getattr(msg, f.name):
                out.extend(_fields_of(item, depth + 1))
        elif msg.HasField(f.name):
            out.extend(_fields_of(getattr(msg, f.name), depth + 1))
    return out


def example(rpc: Rpc | Stream) -> Message:
    """The declared example of an RPC, as its request message (a stream: one message)."""
    of = rpc.of if isinstance(rpc, Stream) else rpc
    assert of.example is not None, f"{of.name} declares no example"
    inner = codec.encode_request(of, of.example())
    if isinstance(rpc, Stream):
        outer = rpc.request()
        outer.batch.CopyFrom(inner)  # type: ignore[attr-defined]
        return outer
    return inner


@st.composite
def mutated(draw: Any, rpc: Rpc | Stream) -> Message:
    msg = example(rpc)
    for _ in range(draw(st.integers(1, 3))):
        fields = _fields_of(msg)
        parent, field = draw(st.sampled_from(fields))
        set_field(parent, field, draw, 1)
    return msg


@st.composite
def raw_bytes(draw: Any, rpc: Rpc | Stream) -> bytes:
    kind = draw(st.sampled_from(["random", "truncated", "flipped", "inserted"]))
    if kind == "random":
        return bytes(draw(st.binary(max_size=64)))
    data = bytearray(example(rpc).SerializeToString())
    if not data:
        return bytes(draw(st.binary(min_size=1, max_size=64)))
    at = draw(st.integers(0, len(data) - 1))
    if kind == "truncated":
        return bytes(data[:at])
    if kind == "flipped":
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        return bytes(data)
    return bytes(data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:])


def requests(rpc: Rpc | Stream) -> st.SearchStrategy[tuple[str, bytes]]:
    """``(kind, request bytes)`` for ``rpc``."""

    def tagged(kind: str, s: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, bytes]]:
        return s.map(lambda m: (kind, m if isinstance(m, bytes) else m.SerializeToString()))

    return st.one_of(
        tagged("random", message(rpc.request.DESCRIPTOR)),
        tagged("mutated", mutated(rpc)),
        tagged("bytes", raw_bytes(rpc)),
    )


EVERY = list(RPCS)
