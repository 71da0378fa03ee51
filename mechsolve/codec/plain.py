"""A solver result as plain JSON values (``mechsolve batch`` output): what a data tool reads
without the ``.proto`` files.

- a dataclass -> an object of its fields (a :class:`NormalFormGame` -> its ``to_dict()``);
- an array -> nested lists; a numpy scalar -> the Python number;
- an enum -> its value (``MediatorKind.PARETO`` -> ``"pareto"``);
- a non-finite float (``nan``: "not defined", e.g. the welfare of nobody; ``inf``) -> ``None``:
  JSON has no such numbers, and Parquet reads ``None`` as null;
- tuples -> lists, mappings -> objects with string keys; everything else as it is.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def plain(value: Any) -> Any:
    """``value`` as JSON-ready Python values (module docstring)."""
    convert = _BY_TYPE.get(type(value))
    if convert is not None:
        return convert(value)
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _field_names(type(value))
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, np.generic):
        return plain(value.item())
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _same(value: Any) -> Any:
    return value


def _float(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _array(value: np.ndarray) -> Any:
    if value.dtype.kind in "biu" or (value.dtype.kind == "f" and np.isfinite(value).all()):
        return value.tolist()
    return [plain(v) for v in value.tolist()] if value.ndim else plain(value.item())


def _sequence(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [plain(v) for v in value]


_BY_TYPE: dict[type, Any] = {
    type(None): _same,
    bool: _same,
    int: _same,
    str: _same,
    float: _float,
    np.ndarray: _array,
    list: _sequence,
    tuple: _sequence,
}
"""Converters of the common exact types (the rest are found by ``isinstance``)."""
