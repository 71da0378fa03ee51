"""Input validation helpers: each converts or checks one argument and raises
:class:`~mechsolve.solver.core.errors.MechsolveInputError` naming the function, the argument (with
the index of the first offending element) and the value received. Never a numpy traceback.

The array helpers always return a new array, never the caller's: results may freeze what the
solver holds (:func:`~mechsolve.solver.core.results.readonly`), and a caller reusing its
buffers must not find them read-only.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .errors import MechsolveInputError

E = TypeVar("E")


def _index_str(argument: str, index: tuple[int, ...]) -> str:
    return argument + "".join(f"[{i}]" for i in index)


def _first_index(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def float_array(
    function: str,
    argument: str,
    value: Any,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    allow_empty: bool = False,
) -> NDArray[np.float64]:
    """``value`` as a finite float64 array, checked for ndim, shape (``None`` = any) and range.

    Numbers only (anything with a real ``__float__``: ints, floats, bools, ``Fraction``,
    ``Decimal``, numpy scalars): complex values (numpy would drop their imaginary part), strings
    (numpy would parse ``"1"``), ``None`` and other objects, and masked arrays with a masked
    entry (the mask would be ignored) are refused. The result never shares memory with
    ``value``."""
    if isinstance(value, np.ma.MaskedArray) and np.ma.is_masked(value):
        raise MechsolveInputError(
            function,
            argument,
            "must be an array of numbers; got a masked array with masked entries",
        )
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged input
        raise MechsolveInputError(
            function, argument, f"must be an array of real numbers; got {_short(value)}"
        ) from exc
    _check_real(function, argument, raw, value)
    fresh = raw.base is None and not _exposes_array(value)  # built here (a list): no copy
    try:
        arr = np.asarray(raw, dtype=np.float64) if fresh else np.array(raw, dtype=np.float64)
    except (OverflowError, TypeError, ValueError) as exc:  # e.g. 10**400 or Fraction(10**400)
        raise MechsolveInputError(
            function,
            argument,
            f"must hold real numbers within float64's range; got {_short(value)}",
        ) from exc
    _check_shape(function, argument, arr, ndim, shape)
    if not allow_empty and arr.size == 0:
        raise MechsolveInputError(function, argument, f"must not be empty; got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = _first_index(bad)
        raise MechsolveInputError(
            function, _index_str(argument, idx), f"must be finite; got {arr[idx]}"
        )
    if min_value is not None and (arr < min_value).any():
        idx = _first_index(arr < min_value)
        raise MechsolveInputError(
            function, _index_str(argument, idx), f"must be >= {min_value}; got {arr[idx]}"
        )
    if max_value is not None and (arr > max_value).any():
        idx = _first_index(arr > max_value)
        raise MechsolveInputError(
            function, _index_str(argument, idx), f"must be <= {max_value}; got {arr[idx]}"
        )
    return arr


def _check_real(function: str, argument: str, raw: NDArray[Any], value: Any) -> None:
    """Refuse what numpy would turn into floats without being real numbers."""
    kind = raw.dtype.kind
    if kind in "biuf":
        return
    if kind == "O" and raw.ndim > 0:
        bad = {t for t in set(map(type, raw.flat)) if not _is_real_type(t)}
        if bad:  # (the per-type test first: a per-element walk only to name the first)
            i = next(i for i, x in enumerate(raw.flat) if type(x) in bad)
            idx = tuple(int(j) for j in np.unravel_index(i, raw.shape))
            raise MechsolveInputError(
                function,
                _index_str(argument, idx),
                f"must be a real number; got {_short(raw.flat[i])}",
            )
        return
    what = {"c": "complex numbers", "U": "strings", "S": "bytes", "O": "an object"}.get(
        kind, f"{raw.dtype} values"
    )
    shown = f"an array of dtype {raw.dtype}, shape {raw.shape}" if value is raw else _short(value)
    raise MechsolveInputError(
        function, argument, f"must be an array of real numbers; got {shown} ({what})"
    )


def _exposes_array(value: Any) -> bool:
    """``value`` may hand out its own memory to ``np.asarray`` (an ndarray, or anything with
    the array protocol, as pandas objects: their arrays may be their storage)."""
    return any(
        hasattr(value, name) for name in ("__array__", "__array_interface__", "__array_struct__")
    )


def _is_real_type(t: type) -> bool:
    """Numbers ``float()`` converts without loss of meaning (not complex, not text)."""
    return hasattr(t, "__float__") and not issubclass(t, complex | np.complexfloating)


def int_array(
    function: str,
    argument: str,
    value: Any,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    low: int | NDArray[np.int64] | None = None,
    high: int | NDArray[np.int64] | None = None,
    allow_empty: bool = False,
) -> NDArray[np.int64]:
    """``value`` as an int64 array of integral values with ``low <= x < high`` (broadcast)."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged input
        raise MechsolveInputError(
            function, argument, f"must be an array of integers; got {_short(value)}"
        ) from exc
    kind = raw.dtype.kind
    if kind not in "iuf":  # bool, str, object...
        if raw.size:
            raise MechsolveInputError(
                function, argument, f"must be an array of integers; got dtype {raw.dtype}"
            )
        raw = raw.astype(np.int64)
        kind = "i"
    _check_shape(function, argument, raw, ndim, shape)
    if not allow_empty and raw.size == 0:
        raise MechsolveInputError(function, argument, f"must not be empty; got shape {raw.shape}")
    if kind == "f":
        bad = ~np.isfinite(raw) | (raw != np.round(raw))
        if bad.any():
            idx = _first_index(bad)
            raise MechsolveInputError(
                function, _index_str(argument, idx), f"must be an integer; got {raw[idx]}"
            )
    arr = raw.astype(np.int64)
    if low is not None or high is not None:
        bad = np.zeros(arr.shape, dtype=bool)
        if low is not None:
            bad |= arr < low
        if high is not None:
            bad |= arr >= high
        if bad.any():
            idx = _first_index(bad)
            lo_s = "-inf" if low is None else str(int(np.broadcast_to(low, arr.shape)[idx]))
            hi_s = "inf" if high is None else str(int(np.broadcast_to(high, arr.shape)[idx]))
            raise MechsolveInputError(
                function, _index_str(argument, idx), f"must be in [{lo_s}, {hi_s}); got {arr[idx]}"
            )
    return arr


def bool_array(
    function: str,
    argument: str,
    value: Any,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
) -> NDArray[np.bool_]:
    """``value`` as a bool array; accepts bools and the integers 0/1, rejects anything else."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise MechsolveInputError(
            function, argument, f"must be an array of booleans; got {_short(value)}"
        ) from exc
    _check_shape(function, argument, raw, ndim, shape)
    if raw.dtype == np.bool_:
        return raw.astype(np.bool_, copy=True)
    if np.issubdtype(raw.dtype, np.integer) or np.issubdtype(raw.dtype, np.floating):
        bad = (raw != 0) & (raw != 1)
        if bad.any():
            idx = _first_index(bad)
            raise MechsolveInputError(
                function, _index_str(argument, idx), f"must be a boolean (0 or 1); got {raw[idx]}"
            )
        return raw.astype(np.bool_)
    if raw.size == 0:
        return raw.astype(np.bool_)
    raise MechsolveInputError(
        function, argument, f"must be an array of booleans; got dtype {raw.dtype}"
    )


def _check_shape(
    function: str,
    argument: str,
    arr: NDArray[Any],
    ndim: int | None,
    shape: tuple[int | None, ...] | None,
) -> None:
    if ndim is not None and arr.ndim != ndim:
        raise MechsolveInputError(
            function, argument, f"must have {ndim} dimension(s); got shape {arr.shape}"
        )
    if shape is not None:
        ok = len(shape) == arr.ndim and all(
            s is None or s == a for s, a in zip(shape, arr.shape, strict=False)
        )
        if not ok:
            dims = ["*" if s is None else str(s) for s in shape]
            want = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
            raise MechsolveInputError(
                function, argument, f"must have shape {want}; got {arr.shape}"
            )


def choice(function: str, argument: str, value: Any, choices: Sequence[E]) -> E:
    """``value`` if it is one of ``choices`` (compared by ``==``), else an error listing them."""
    if isinstance(value, Hashable):  # arrays and lists are never a choice (no ambiguous ==)
        for c in choices:
            if value == c:
                return c
    listed = ", ".join(repr(c) for c in choices)
    raise MechsolveInputError(function, argument, f"must be one of {listed}; got {value!r}")


def flag(function: str, argument: str, value: Any) -> bool:
    """A boolean (``True``/``False`` or a numpy bool; not 0, 1 or a string)."""
    if not isinstance(value, bool | np.bool_):
        raise MechsolveInputError(function, argument, f"must be True or False; got {value!r}")
    return bool(value)


def positive_int(function: str, argument: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise MechsolveInputError(
            function, argument, f"must be an integer >= {minimum}; got {value!r}"
        )
    if value < minimum:
        raise MechsolveInputError(
            function, argument, f"must be an integer >= {minimum}; got {value}"
        )
    return int(value)


def real(
    function: str,
    argument: str,
    value: Any,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    min_exclusive: bool = False,
) -> float:
    """``value`` as a finite float within the bounds."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise MechsolveInputError(function, argument, f"must be a real number; got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise MechsolveInputError(function, argument, f"must be finite; got {x}")
    if min_value is not None and (x < min_value or (min_exclusive and x == min_value)):
        op = ">" if min_exclusive else ">="
        raise MechsolveInputError(function, argument, f"must be {op} {min_value}; got {x}")
    if max_value is not None and x > max_value:
        raise MechsolveInputError(function, argument, f"must be <= {max_value}; got {x}")
    return x


def time_limit(function: str, value: Any) -> float | None:
    """A solver time limit in seconds: ``None`` (no limit) or a positive finite number."""
    if value is None:
        return None
    return real(function, "time_limit", value, min_value=0.0, min_exclusive=True)


def rng(function: str, seed: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a Generator, an int seed or ``None`` (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise MechsolveInputError(
            function, "seed", f"must be a non-negative integer or numpy Generator; got {seed!r}"
        )
    return np.random.default_rng(int(seed))


SEED_BOUND = 1 << 63
"""Seeds are integers in ``[0, 2**63)`` (an int64 on the wire)."""


def seed(function: str, value: Any) -> int:
    """A seed that can be recorded and replayed: ``value`` itself (an integer in
    ``[0, 2**63)``), or one drawn from ``value`` when it is a ``numpy.random.Generator``, or
    from fresh entropy when it is ``None``."""
    if value is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(value, np.random.Generator):
        return int(value.integers(SEED_BOUND))
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise MechsolveInputError(
            function, "seed", f"must be an integer in [0, 2**63) or None; got {value!r}"
        )
    if not 0 <= value < SEED_BOUND:
        raise MechsolveInputError(function, "seed", f"must be in [0, 2**63); got {value}")
    return int(value)


def _short(value: Any) -> str:
    """``repr(value)`` on one line, cut to 60 characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."
