"""Solving parsed records, in-process or on a mechsolve server, into output rows.

Every record becomes one row: ``id``, ``rpc``, ``status`` (``OK`` or the status the
service answers with), ``error`` (the service's message, field included), ``seconds`` and
``result`` (the solver's result as plain JSON values, :func:`mechsolve.codec.plain.plain`).

Records of an RPC declared :class:`~mechsolve.api.declare.Vectorized` (``Mediate``) that agree
on everything but the stacked arguments (the same game, mediator, welfare, method) are solved
as one call of the vectorized RPC (``MediateBatch``, in at most ``max_batch_profiles`` rows),
and each row is split off as the RPC would return it; their ``seconds`` is the call's time
shared equally. A group whose call fails (a record out of range, say) is solved record by
record instead, so that each record gets its own answer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from mechsolve import codec
from mechsolve.api import RPCS, Rpc, Stream
from mechsolve.codec.plain import plain
from mechsolve.server.servicer import failure, solve
from mechsolve.server.status import describe
from mechsolve.solver.core.errors import MechsolveError
from mechsolve.solver.core.limits import Limits

from .records import Record

Row = dict[str, Any]

_STREAMS: dict[str, Stream] = {s.of.name: s for s in RPCS if isinstance(s, Stream)}
"""Vectorized RPC name -> the stream that applies it per message."""


def row(rec: Record, status: str, error: str | None, seconds: float, result: Any) -> Row:
    return {
        "id": rec.id,
        "rpc": rec.name,
        "status": status,
        "error": error,
        "seconds": seconds,
        "result": None if result is None else plain(result),
    }


class Solver(Protocol):
    """Where records are solved: one at a time, or a vectorized group at once."""

    def one(self, rec: Record) -> Row:
        """The record's row (never raises)."""
        ...

    def group(self, rpc: Rpc, shared: dict[str, Any], stacked: dict[str, Any], n: int) -> Any:
        """The vectorized RPC's result for ``n`` records (raises on any failure)."""
        ...


def solve_records(records: Sequence[Record], solver: Solver, limits: Limits) -> list[Row]:
    """One row per record, in order (module docstring)."""
    rows: list[Row | None] = [None] * len(records)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, rec in enumerate(records):
        if rec.status != "OK":
            rows[i] = row(rec, rec.status, rec.error, 0.0, None)
        elif rec.rpc is not None and rec.rpc.vectorized is not None:
            groups.setdefault(_group_key(rec), []).append(i)
    for members in groups.values():
        size = limits.max_batch_profiles
        for at in range(0, len(members), size):
            part = members[at : at + size]
            if len(part) > 1:
                _solve_group([records[i] for i in part], part, rows, solver, limits)
    for i, rec in enumerate(records):
        if rows[i] is None:
            rows[i] = solver.one(rec)
    return [r for r in rows if r is not None]


def _group_key(rec: Record) -> tuple[Any, ...]:
    assert rec.rpc is not None and rec.rpc.vectorized is not None and rec.request is not None
    shared = type(rec.request)()
    shared.CopyFrom(rec.request)
    for name in rec.rpc.vectorized.stacked:
        shared.ClearField(rec.rpc.arguments[name].name)
    return (rec.rpc.name, rec.game_file, shared.SerializeToString(deterministic=True))


def _solve_group(
    group: list[Record],
    positions: list[int],
    rows: list[Row | None],
    solver: Solver,
    limits: Limits,
) -> None:
    """Solve ``group`` as one vectorized call and fill its rows; leave them empty (to be solved
    one by one) when any record's arguments do not decode or the call fails."""
    rpc = group[0].rpc
    assert rpc is not None and rpc.vectorized is not None
    vec = rpc.vectorized
    start = time.perf_counter()
    try:
        first = codec.decode_request(rpc, group[0].request, limits, group[0].supplied)  # type: ignore[arg-type]
        shared = {k: v for k, v in first.items() if k not in vec.stacked}
        stacked = {name: _stack(rpc, name, first, group, limits) for name in vec.stacked}
        result = solver.group(rpc, shared, stacked, len(group))
    except Exception:
        return
    seconds = (time.perf_counter() - start) / len(group)
    for j, (rec, i) in enumerate(zip(group, positions, strict=True)):
        rows[i] = row(rec, "OK", None, seconds, vec.row(result, j))


def _stack(rpc: Rpc, name: str, first: dict[str, Any], group: list[Record], limits: Limits) -> Any:
    """Argument ``name`` of every record, stacked along a new first axis. A repeated scalar
    field is read straight from the messages (the vectorized call validates the values as the
    single call would, and any failure sends the group back to one-by-one solving); other
    fields are decoded record by record."""
    fd = rpc.arguments[name]
    if fd.message_type is None and fd.is_repeated:
        dtype = np.asarray(first[name]).dtype
        return np.array([getattr(r.request, fd.name) for r in group], dtype=dtype)
    return np.stack(
        [np.asarray(codec.decode_request(rpc, r.request, limits, r.supplied)[name]) for r in group]  # type: ignore[arg-type]
    )


class ServerUnavailable(MechsolveError):
    """The server could not be reached, or stayed busy, through every retry: the record has
    no answer yet (and its chunk must not be committed)."""


def _transient(code: str, details: str) -> bool:
    """A status about the transport or the server's load, not about the record: retried, and
    never written as the record's answer."""
    return code in ("UNAVAILABLE", "CANCELLED") or (
        code == "RESOURCE_EXHAUSTED" and "retry later" in details
    )


class InProcess:
    """The solver functions in this process, with ``limits`` and a per-record time limit."""

    def __init__(self, limits: Limits, time_limit: float | None) -> None:
        self.limits, self.time_limit = limits, time_limit

    def one(self, rec: Record) -> Row:
        assert rec.rpc is not None and rec.request is not None
        start = time.perf_counter()
        try:
            result = solve(rec.rpc, rec.request, self.limits, self.time_limit, rec.supplied)
        except Exception as exc:
            answer = failure(rec.rpc, exc)
            error = describe(answer.message, answer.field)
            return row(rec, answer.code, error, time.perf_counter() - start, None)
        return row(rec, "OK", None, time.perf_counter() - start, result)

    def group(self, rpc: Rpc, shared: dict[str, Any], stacked: dict[str, Any], n: int) -> Any:
        assert rpc.vectorized is not None
        seconds = None if self.time_limit is None else self.time_limit * n
        return rpc.vectorized.of.call({**shared, **stacked}, self.limits, seconds)


class Remote:
    """A mechsolve server: records as unary calls, vectorized groups as one message of the
    RPC's stream (``StreamMediateBatch``); errors as the server words them."""

    def __init__(self, client: Any, time_limit: float | None) -> None:
        self.client = client
        self.time_limit = time_limit if time_limit is not None else client.default_time_limit
        self._games: dict[str, Any] = {}

    def one(self, rec: Record) -> Row:
        import grpc

        assert rec.rpc is not None and rec.request is not None
        request = rec.request
        if rec.supplied:
            request = type(rec.request)()
            request.CopyFrom(rec.request)
            request.MergeFrom(self._supplied(rec))
        call = self.client._multicallable(rec.rpc)
        delays = self.client.retry.delays()
        while True:
            start = time.perf_counter()
            try:
                response = call(
                    request, timeout=self.time_limit, metadata=self.client.settings.metadata
                )
                break
            except grpc.RpcError as err:
                code = err.code()
                name = code.name if code is not None else "UNKNOWN"
                details = err.details() or ""
                if not _transient(name, details):
                    return row(rec, name, details, time.perf_counter() - start, None)
                delay = next(delays, None)
                if delay is None:
                    raise ServerUnavailable(
                        f"the server at {self.client.settings.address} did not answer record "
                        f"{rec.id!r} ({name}: {details}); this chunk is not committed: rerun "
                        "the same command to resume"
                    ) from None
                time.sleep(delay)
        result = codec.decode_result(rec.rpc, response)
        return row(rec, "OK", None, time.perf_counter() - start, result)

    def _supplied(self, rec: Record) -> Any:
        """The request fields of the record's supplied arguments (its game), encoded once."""
        assert rec.rpc is not None
        key = f"{rec.rpc.name}:{rec.game_file}"
        msg = self._games.get(key)
        if msg is None:
            msg = self._games[key] = codec.encode_request(rec.rpc, rec.supplied)
        return msg

    def group(self, rpc: Rpc, shared: dict[str, Any], stacked: dict[str, Any], n: int) -> Any:
        assert rpc.vectorized is not None
        of = rpc.vectorized.of
        stream = _STREAMS.get(of.name)
        seconds = self.time_limit * n
        if stream is None or stream.per_message != rpc.vectorized.stacked:
            return getattr(self.client, of.function.__name__)(
                **shared, **stacked, time_limit=seconds
            )
        batch = tuple(stacked[name] for name in stream.per_message)
        method = getattr(self.client, stream.function.__name__)
        (result,) = list(method(**shared, batches=[batch], time_limit=seconds))
        return result
