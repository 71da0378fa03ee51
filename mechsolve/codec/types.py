"""The message types with their own codec: tensors (``ndarray``), ``Game``
(``NormalFormGame``), ``Prior`` (``TypePrior``), and the ``Welfare`` shorthand (a name or a
``WelfareKind`` stands for ``Welfare(kind)``).

On the server each decoder checks sizes against the limits before building anything of that
size, and names the field path in its errors (``game.payoffs.values``,
``priors[1].uniform_grid.points_per_item``).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from google.protobuf.message import Message

from mechsolve.solver.auctions.priors import (
    TypePrior,
    discrete_marginals,
    empirical_prior,
    type_set,
    uniform_grid,
)
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import power_size
from mechsolve.solver.core.results import readonly
from mechsolve.solver.games.normal_form import NormalFormGame, as_game
from mechsolve.solver.games.welfare import Welfare, welfare_spec
from mechsolve.v1 import auctions_pb2 as apb

from .values import (
    CODECS,
    COERCE,
    MISSING,
    Context,
    MessageCodec,
    array_in,
    enum_number,
    enum_value,
)

MAX_DIMENSIONS = 32
"""Most dimensions a tensor may have."""


class TensorCodec(MessageCodec):
    """``ndarray`` <-> ``Tensor``/``Int64Tensor``/``BoolTensor`` (C order)."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def encode(self, value: Any, msg: Message, path: str, ctx: Context) -> None:
        arr = array_in(self.dtype, value, path, ctx)
        msg.shape.extend(arr.shape)  # type: ignore[attr-defined]
        msg.values.extend(arr.ravel().tolist())  # type: ignore[attr-defined]

    def decode(self, msg: Message, path: str, ctx: Context) -> Any:
        return tensor(msg, path, ctx, self.dtype)


MAX_SPAN = 1 << 48
"""The largest product of a tensor's non-zero dimensions (an empty tensor may have a zero
dimension next to huge ones; numpy cannot even describe a span past about 2^60 bytes)."""


def tensor(msg: Any, path: str, ctx: Context, dtype: Any) -> np.ndarray:
    """A tensor message as a read-only array; ``len(values)`` must equal ``prod(shape)``."""
    if len(msg.shape) > MAX_DIMENSIONS:
        raise MechsolveInputError(
            ctx.function, f"{path}.shape", f"has {len(msg.shape)} dimensions, over {MAX_DIMENSIONS}"
        )
    shape = tuple(int(s) for s in msg.shape)
    expected = math.prod(shape)
    if len(msg.values) != expected:
        raise MechsolveInputError(
            ctx.function,
            f"{path}.values",
            f"has {len(msg.values)} values for shape {shape}: expected {expected}",
        )
    if math.prod(s for s in shape if s) > MAX_SPAN:  # empty, yet numpy refuses such a shape
        raise MechsolveInputError(
            ctx.function, f"{path}.shape", f"spans more than 2^48 elements; got {shape}"
        )
    return readonly(np.array(msg.values, dtype=dtype).reshape(shape))


def _cached_size(key: tuple[Any, bytes], game: NormalFormGame) -> int:
    return len(key[1]) + int(game.payoffs.nbytes)


class GameCodec(MessageCodec):
    """``NormalFormGame`` <-> ``Game``. Decoded games are cached by their bytes (a simulation
    sends the same game every round; each distinct game is parsed and validated once)."""

    MAX_ENTRIES = 256
    MAX_BYTES = 1 << 20
    """Games whose message is larger are not cached."""
    MAX_CACHE_BYTES = 32 << 20
    """What the cache may hold in all (messages and payoff arrays): it lives in every solve
    worker, inside the per-call memory budget."""

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[Any, bytes], NormalFormGame] = OrderedDict()
        self._cache_bytes = 0
        self._lock = threading.Lock()

    def encode(self, value: Any, msg: Message, path: str, ctx: Context) -> None:
        g = as_game(ctx.function, value) if ctx.request else value
        TensorCodec(np.float64).encode(g.payoffs, msg.payoffs, f"{path}.payoffs", ctx)  # type: ignore[attr-defined]
        msg.players.extend(g.players)  # type: ignore[attr-defined]
        for labels in g.actions:
            msg.actions.add(labels=labels)  # type: ignore[attr-defined]
        msg.title = g.title  # type: ignore[attr-defined]

    def decode(self, msg: Message, path: str, ctx: Context) -> Any:
        if msg.ByteSize() > self.MAX_BYTES:
            return self._decode(msg, path, ctx)
        key = (ctx.limits, msg.SerializeToString(deterministic=True))
        with self._lock:
            game = self._cache.get(key)
            if game is not None:
                self._cache.move_to_end(key)
                return game
        game = self._decode(msg, path, ctx)  # raises on bad input: never cached
        with self._lock:
            if key not in self._cache:
                self._cache[key] = game
                self._cache_bytes += _cached_size(key, game)
            while len(self._cache) > self.MAX_ENTRIES or self._cache_bytes > self.MAX_CACHE_BYTES:
                old_key, old = self._cache.popitem(last=False)
                self._cache_bytes -= _cached_size(old_key, old)
        return game

    def _decode(self, msg: Any, path: str, ctx: Context) -> NormalFormGame:
        field = f"{path}.payoffs"
        if not msg.HasField("payoffs") or not msg.payoffs.shape:
            raise MechsolveInputError(ctx.function, field, "is required (shape (n, k_1, ..., k_n))")
        shape = tuple(int(s) for s in msg.payoffs.shape)
        if 2 <= len(shape) <= MAX_DIMENSIONS and 0 not in shape:
            ctx.limits.check(ctx.function, f"{field} players", shape[0], "max_players")
            ctx.limits.check(
                ctx.function, f"{field} outcomes", math.prod(shape[1:]), "max_outcomes"
            )
        payoffs = tensor(msg.payoffs, field, ctx, np.float64)
        try:
            return NormalFormGame(
                payoffs,
                players=tuple(msg.players) or (),
                actions=tuple(tuple(a.labels) for a in msg.actions) or (),
                title=msg.title,
            )
        except MechsolveInputError as exc:
            arg = exc.argument.replace("payoffs", field, 1)
            raise type(exc)(
                ctx.function, arg if arg.startswith(path) else f"{path}.{arg}", exc.detail
            ) from exc


def _box(values: Any, default: float) -> Any:
    """A repeated ``lo``/``hi``: empty -> ``default``, one value -> that number (every item),
    more -> one per item."""
    if len(values) == 0:
        return default
    return float(values[0]) if len(values) == 1 else tuple(float(x) for x in values)


class PriorCodec(MessageCodec):
    """``TypePrior`` <-> ``Prior``: a uniform grid as its recipe, any other prior as its
    explicit type set (float64 bit for bit). One ``Prior`` in a repeated field is the prior
    shared by every bidder."""

    collapse_single = True

    def encode(self, value: Any, msg: Message, path: str, ctx: Context) -> None:
        if not isinstance(value, TypePrior):
            raise MechsolveInputError(
                ctx.function, path, f"must be a TypePrior; got {type(value).__name__}"
            )
        p = value
        if p.is_uniform_grid and len(set(p.grid_shape)) == 1:
            grid = uniform_grid(p.n_items, p.grid_shape[0], lo=p.lo, hi=p.hi, points=p.kind.value)
            if grid.same_as(p):
                points: Any = enum_number(apb.GridPoints.DESCRIPTOR, p.kind.value, path, ctx)
                msg.uniform_grid.CopyFrom(  # type: ignore[attr-defined]
                    apb.UniformGrid(
                        n_items=p.n_items,
                        points_per_item=p.grid_shape[0],
                        lo=np.atleast_1d(p.lo).tolist(),
                        hi=np.atleast_1d(p.hi).tolist(),
                        points=points,
                    )
                )
                return
        kind = apb.TYPE_SET_KIND_PRODUCT_GRID if p.grid_shape else apb.TYPE_SET_KIND_EMPIRICAL
        ts = msg.type_set  # type: ignore[attr-defined]
        TensorCodec(np.float64).encode(p.values, ts.values, f"{path}.values", ctx)
        ts.probs.extend(p.probs.tolist())
        ts.kind = kind

    def decode(self, msg: Message, path: str, ctx: Context) -> Any:
        which = msg.WhichOneof("source")
        if which is None:
            raise MechsolveInputError(
                ctx.function,
                path,
                "is required: set one of uniform_grid, discrete_marginals, empirical, type_set",
            )
        field = f"{path}.{which}"
        try:
            return getattr(self, f"_{which}")(getattr(msg, which), field, ctx)
        except MechsolveInputError as exc:
            if exc.argument.startswith(field):
                raise
            arg = exc.argument
            for name in ("values", "probs"):  # discrete_marginals' values[j] -> items[j].values
                if which == "discrete_marginals" and arg.startswith(f"{name}["):
                    j, rest = arg[len(name) + 1 :].split("]", 1)
                    arg = f"items[{j}].{name}{rest}"
            raise type(exc)(ctx.function, f"{field}.{arg}", exc.detail) from exc

    def _uniform_grid(self, g: Any, field: str, ctx: Context) -> TypePrior:
        m, k = int(g.n_items), int(g.points_per_item)
        points = enum_value(apb.GridPoints.DESCRIPTOR, g.points, str, f"{field}.points", ctx)
        size = power_size(k, m) if k >= 2 and m >= 1 else 0  # (invalid: uniform_grid says why)
        ctx.limits.check(ctx.function, f"{field}.points_per_item", size, "max_types")
        pts = "midpoint" if points is MISSING else points
        lo, hi = (_box(getattr(g, name), default) for name, default in (("lo", 0.0), ("hi", 1.0)))
        return uniform_grid(m, k, lo=lo, hi=hi, points=pts, limits=ctx.limits)

    def _discrete_marginals(self, d: Any, field: str, ctx: Context) -> TypePrior:
        values = [np.asarray(item.values, dtype=np.float64) for item in d.items]
        probs = None
        if any(len(item.probs) for item in d.items):
            probs = [
                np.asarray(item.probs, dtype=np.float64)
                if len(item.probs)
                else np.full(len(item.values), 1.0 / max(1, len(item.values)))
                for item in d.items
            ]
        return discrete_marginals(values, probs, limits=ctx.limits)

    def _empirical(self, e: Any, field: str, ctx: Context) -> TypePrior:
        if not e.HasField("samples"):
            raise MechsolveInputError(
                ctx.function, f"{field}.samples", "is required (shape (N, m))"
            )
        shape = tuple(int(s) for s in e.samples.shape)
        if len(shape) == 2:
            ctx.limits.check(ctx.function, f"{field}.samples", shape[0], "max_types")
        return empirical_prior(
            tensor(e.samples, f"{field}.samples", ctx, np.float64), limits=ctx.limits
        )

    def _type_set(self, ts: Any, field: str, ctx: Context) -> TypePrior:
        if not ts.HasField("values"):
            raise MechsolveInputError(ctx.function, f"{field}.values", "is required (shape (T, m))")
        shape = tuple(int(s) for s in ts.values.shape)
        if len(shape) == 2:
            ctx.limits.check(ctx.function, f"{field}.values", shape[0], "max_types")
        values = tensor(ts.values, f"{field}.values", ctx, np.float64)
        kind = enum_value(apb.TypeSetKind.DESCRIPTOR, ts.kind, str, f"{field}.kind", ctx)
        kind = None if kind is MISSING else kind
        return type_set(values, np.asarray(ts.probs), kind=kind, limits=ctx.limits)


CODECS.update(
    {
        "mechsolve.v1.Tensor": TensorCodec(np.float64),
        "mechsolve.v1.Int64Tensor": TensorCodec(np.int64),
        "mechsolve.v1.BoolTensor": TensorCodec(np.bool_),
        "mechsolve.v1.Game": GameCodec(),
        "mechsolve.v1.Prior": PriorCodec(),
    }
)
COERCE[Welfare] = welfare_spec
