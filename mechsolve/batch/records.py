"""Batch input: records read in chunks from JSON lines or Parquet, and each record parsed into
a request of a declared RPC.

A record is a JSON object (a line of a ``.jsonl`` file, a row of a ``.parquet`` file):

- ``id``: an integer or a string, echoed in the output (default: the record's 0-based
  position in the input, which is stable for the same file);
- ``rpc``: the RPC (``Mediate``, ``OptimalMenu``, ... or the client method's name,
  ``mediate``); default ``--rpc``;
- ``game_file``: a ``.nfg``, ``.json`` or ``.npz`` game (relative to the input file's folder)
  that fills the request's ``game``; default ``--game``. A million profiles of one game name
  the file, the game is read once per process;
- the request: either ``request`` (an object, or a JSON string, e.g. a Parquet text column)
  or the record's other keys, in the proto3 JSON form of the RPC's request message (field
  names as in ``proto/``, enums by their short name (``"milp"``, ``"punishing"``), proto name or
  number, int64 as numbers or strings).

Parsing never raises: a record that is not valid gets the status and message the service
would answer it with.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from mechsolve import codec
from mechsolve.api import RPCS, Rpc
from mechsolve.codec.values import Context, decode_field, expand_short_forms
from mechsolve.solver.core.errors import MechsolveError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.games.files import read_game

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
"""File suffix -> format, for input and output."""

RESERVED = frozenset({"id", "rpc", "game_file", "request"})
"""Record keys that are not request fields."""

RPCS_BY_NAME: dict[str, Rpc] = {}
"""RPC name and solver function name -> the unary RPC."""
for _rpc in RPCS:
    if isinstance(_rpc, Rpc):
        RPCS_BY_NAME[_rpc.name] = RPCS_BY_NAME[_rpc.function.__name__] = _rpc

MAX_CACHED_GAMES = 64
"""Game files kept decoded per process."""


def file_format(path: Path, what: str) -> str:
    """``"jsonl"`` or ``"parquet"``, from the suffix."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise MechsolveError(
            f"{what} {str(path)!r}: the name must end in {', '.join(FORMATS)} (the format)"
        )
    return fmt


@dataclass
class Chunk:
    """Records ``start .. start + len - 1`` of the input: raw JSON lines or an Arrow batch."""

    index: int
    start: int
    lines: list[bytes] | None = None
    batch: Any = None

    def __len__(self) -> int:
        return len(self.lines) if self.lines is not None else int(self.batch.num_rows)

    def raw(self) -> list[Any]:
        """Each record as bytes (JSON lines) or a dict (Parquet)."""
        return list(self.lines) if self.lines is not None else self.batch.to_pylist()


def read_chunks(path: Path, size: int) -> Iterator[Chunk]:
    """The input in chunks of ``size`` records (blank JSON lines are not records), streamed:
    at most one chunk is in memory here."""
    if file_format(path, "input") == "parquet":
        import pyarrow.parquet as pq

        start = 0
        with pq.ParquetFile(path) as pf:
            for i, batch in enumerate(pf.iter_batches(batch_size=size)):
                yield Chunk(i, start, batch=batch)
                start += batch.num_rows
        return
    lines: list[bytes] = []
    index = start = 0
    with path.open("rb") as f:
        for line in f:
            if not line.strip():
                continue
            lines.append(line)
            if len(lines) == size:
                yield Chunk(index, start, lines=lines)
                index, start, lines = index + 1, start + size, []
    if lines:
        yield Chunk(index, start, lines=lines)


def count_records(path: Path) -> int:
    """How many records the input holds (a Parquet footer, or one pass over the lines)."""
    if file_format(path, "input") == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


@dataclass
class Record:
    """One parsed record: its request, or why it has none (``status``, ``error``)."""

    position: int
    id: Any
    name: str | None = None
    """The RPC's name (as the record gave it, when it names none)."""
    rpc: Rpc | None = None
    request: Message | None = None
    game_file: str | None = None
    supplied: dict[str, Any] = field(default_factory=dict)
    status: str = "OK"
    error: str | None = None

    def fail(self, status: str, error: str) -> Record:
        self.status, self.error = status, error
        return self


@dataclass
class Defaults:
    """What records leave out: the RPC, the game file, and the folder game files are
    relative to."""

    rpc: str | None = None
    game_file: str | None = None
    folder: Path = Path(".")
    games: dict[str, Any] = field(default_factory=dict)
    """Game files already read (``--game``, read once by the driver and shipped to workers
    that may not see its file)."""


class GameFiles:
    """Game files read once per process (at most :data:`MAX_CACHED_GAMES` kept)."""

    def __init__(
        self, folder: Path, games: dict[str, Any] | None = None, limits: Limits | None = None
    ) -> None:
        self.folder = folder
        self.limits = limits or Limits()
        self._games: dict[str, Any] = dict(games or {})
        self._refusals: dict[tuple[str, str], tuple[str, str] | None] = {}

    def refusal(self, name: str, rpc: Rpc) -> tuple[str, str] | None:
        """The status and message the service answers a request carrying this game with when
        the game is over the limits (the game decoded as the service decodes it, once per
        file and RPC), or ``None``."""
        key = (name, rpc.name)
        if key not in self._refusals:
            from mechsolve.server.servicer import failure
            from mechsolve.server.status import describe

            request = codec.encode_request(rpc, {"game": self.get(name)})
            try:
                decode_field(
                    request, rpc.arguments["game"], Any, "game",
                    Context(rpc.function.__name__, self.limits, request=True),
                )  # fmt: skip
                self._refusals[key] = None
            except MechsolveError as exc:
                answer = failure(rpc, exc)
                self._refusals[key] = (answer.code, describe(answer.message, answer.field))
        return self._refusals[key]

    def get(self, name: str) -> Any:
        game = self._games.get(name)
        if game is None:
            spec = name if name.startswith("fixture:") else str(self.folder / name)
            game = read_game(spec, function="batch")  # raises MechsolveInputError
            if len(self._games) >= MAX_CACHED_GAMES:
                self._games.pop(next(iter(self._games)))
            self._games[name] = game
        return game


def parse(position: int, raw: Any, defaults: Defaults, games: GameFiles) -> Record:
    """A raw record (JSON bytes or a dict) -> its request (see the module docstring); never
    raises."""
    try:
        return _parse(position, raw, defaults, games)
    except RecursionError:
        return Record(position, position).fail(
            "INVALID_ARGUMENT", "the record is nested too deeply to be a request"
        )


def _parse(position: int, raw: Any, defaults: Defaults, games: GameFiles) -> Record:
    rec = Record(position, position)
    finite = False  # known to hold no NaN or infinity
    if isinstance(raw, bytes | str):
        finite = not any(word in raw for word in _NON_FINITE[type(raw)])
        try:
            raw = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return rec.fail("INVALID_ARGUMENT", f"the record is not valid JSON ({exc})")
    if not isinstance(raw, dict):
        return rec.fail(
            "INVALID_ARGUMENT", f"the record must be a JSON object; got {type(raw).__name__}"
        )
    ident = raw.get("id")
    if ident is not None:
        if isinstance(ident, bool) or not isinstance(ident, int | str):
            return rec.fail(
                "INVALID_ARGUMENT",
                f"must be an integer or a string; got {ident!r} [field: id]",
            )
        rec.id = ident
    name = raw.get("rpc")
    if name is None:
        name = defaults.rpc
    if name is None:
        return rec.fail("INVALID_ARGUMENT", "names no RPC: give it an `rpc` or run with --rpc")
    if not isinstance(name, str):
        return rec.fail(
            "INVALID_ARGUMENT", f"must be an RPC's name (a string); got {name!r} [field: rpc]"
        )
    rec.name = name
    rpc = RPCS_BY_NAME.get(rec.name)
    if rpc is None:
        return rec.fail(
            "UNIMPLEMENTED",
            f"no RPC {rec.name!r}; one of {sorted({r.name for r in RPCS_BY_NAME.values()})}"
            " [field: rpc]",
        )
    rec.rpc, rec.name = rpc, rpc.name
    request = raw.get("request")
    if request is None:  # a null (a Parquet column of another RPC's records) is no field
        request = {k: v for k, v in raw.items() if k not in RESERVED and v is not None}
    elif isinstance(request, str):
        try:
            request = json.loads(request)
        except json.JSONDecodeError as exc:
            return rec.fail("INVALID_ARGUMENT", f"is not valid JSON ({exc}) [field: request]")
    if not isinstance(request, dict):
        return rec.fail("INVALID_ARGUMENT", "must be a JSON object [field: request]")
    game_file = raw.get("game_file") or (defaults.game_file if "game" not in request else None)
    if game_file is not None:
        if "game" not in rpc.arguments:
            return rec.fail("INVALID_ARGUMENT", f"{rpc.name} takes no game [field: game_file]")
        if "game" in request:
            return rec.fail(
                "INVALID_ARGUMENT", "give the game inline or as game_file, not both [field: game]"
            )
        try:
            game = games.get(str(game_file))
        except MechsolveError as exc:
            return rec.fail("INVALID_ARGUMENT", f"{exc} [field: game_file]")
        refusal = games.refusal(str(game_file), rpc)
        if refusal is not None:
            return rec.fail(*refusal)
        rec.supplied["game"] = game
        rec.game_file = str(game_file)
    try:
        if not finite:
            request = _quote_non_finite(request)
        request = expand_short_forms(rpc.request.DESCRIPTOR, request)
        message = rpc.request()
        if not fill(message, request):
            message = json_format.ParseDict(request, rpc.request())
        rec.request = message
    except (json_format.ParseError, TypeError, ValueError) as exc:
        return rec.fail(
            "INVALID_ARGUMENT", f"the request is not a valid {rpc.request.DESCRIPTOR.name}: {exc}"
        )
    return rec


_NON_FINITE: dict[type, tuple[Any, ...]] = {bytes: (b"NaN", b"Infinity"), str: ("NaN", "Infinity")}
"""How Python's ``json`` writes non-finite numbers (a line without them needs no walk)."""


def _quote_non_finite(value: Any) -> Any:
    """NaN and infinities as proto3 JSON spells them (``"NaN"``, ``"Infinity"``): a record
    written by ``json.dumps`` has them bare, and the request then reaches the same check as on
    the service (which refuses them, naming the field)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list):
        return [_quote_non_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _quote_non_finite(v) for k, v in value.items()}
    return value


_EXACT: dict[int, tuple[type, ...]] = {}
"""Field cpp_type -> the Python types proto3 JSON accepts for it without conversion."""
for _cpp, _types in (
    ("CPPTYPE_INT32", (int,)),
    ("CPPTYPE_INT64", (int,)),
    ("CPPTYPE_UINT32", (int,)),
    ("CPPTYPE_UINT64", (int,)),
    ("CPPTYPE_DOUBLE", (int, float)),
    ("CPPTYPE_FLOAT", (int, float)),
    ("CPPTYPE_BOOL", (bool,)),
    ("CPPTYPE_STRING", (str,)),
):
    _EXACT[getattr(FieldDescriptor, _cpp)] = _types


def fill(message: Message, data: dict[str, Any]) -> bool:
    """Set ``data`` on ``message`` directly when every value is of the plain JSON type its field
    takes (numbers, booleans, text, enum names, nested objects of the same kind): what
    ``ParseDict`` would build, several times faster. ``False`` (the message possibly half
    filled) when anything is outside that subset: the caller parses with ``ParseDict``, which
    also words the errors."""
    fields = message.DESCRIPTOR.fields_by_name
    oneofs: set[str] = set()
    try:
        for key, value in data.items():
            fd = fields.get(key)
            if fd is None or fd.type == FieldDescriptor.TYPE_BYTES or value is None:
                return False
            if fd.containing_oneof is not None:
                if fd.containing_oneof.name in oneofs:
                    return False  # two members of one oneof: ParseDict's error
                oneofs.add(fd.containing_oneof.name)
            repeated = fd.is_repeated
            if fd.message_type is not None:
                if (
                    repeated
                    or fd.message_type.GetOptions().map_entry
                    or not isinstance(value, dict)
                ):
                    return False
                sub = getattr(message, key)
                sub.SetInParent()
                if not fill(sub, value):
                    return False
                continue
            values = value if repeated else [value]
            if not isinstance(values, list):
                return False
            if fd.enum_type is not None:
                numbers = [_enum_number(fd.enum_type, v) for v in values]
                if None in numbers:
                    return False
                values = numbers
            else:
                ok = _EXACT.get(fd.cpp_type, ())
                if not all(type(v) in ok for v in values):
                    return False
            if repeated:
                getattr(message, key).extend(values)
            else:
                setattr(message, key, values[0])
    except (TypeError, ValueError):
        return False
    return True


def _enum_number(ed: Any, value: Any) -> int | None:
    if type(value) is int:
        return value if value in ed.values_by_number else None
    ev = ed.values_by_name.get(value) if type(value) is str else None
    return None if ev is None else int(ev.number)
