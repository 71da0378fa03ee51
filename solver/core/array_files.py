"""Arrays from files, for the command line (valuation samples, mechanism tables, values).

A ``.npy`` array (returned under the caller's ``name``), a ``.npz`` archive (every array under
its own name), a ``.json`` object (its keys), or a ``.csv`` / ``.txt`` table (comma- or
whitespace-separated numbers, ``#`` comments; returned under ``name``). Sizes are checked
before anything is read in full: an array declaring more than ``max_cells`` values, or a text
file of more than ``TEXT_BYTES_PER_CELL * max_cells`` bytes, is refused
(:class:`ProblemTooLargeError`); every other failure is a :class:`MechsolveInputError` on
``path``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .errors import MechsolveInputError, ProblemTooLargeError

SUFFIXES = (".npy", ".npz", ".json", ".csv", ".txt")

TEXT_BYTES_PER_CELL = 64
"""A ``.json``, ``.csv`` or ``.txt`` file may hold this many bytes per allowed value."""


def read_arrays(function: str, path: Any, name: str, max_cells: int) -> dict[str, Any]:
    """The arrays a file holds, by name (a single array or a table is named ``name``)."""
    p = Path(path)
    if not p.is_file():
        raise MechsolveInputError(function, "path", f"must be an existing file; got {str(p)!r}")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise MechsolveInputError(
            function, "path", f"must end in {', '.join(SUFFIXES)}; got {str(p)!r}"
        )
    try:
        if suffix == ".npy":
            mapped = np.load(p, mmap_mode="r", allow_pickle=False)  # the header only, so far
            _check_cells(function, p, name, mapped.shape, max_cells)
            return {name: np.array(mapped)}
        if suffix == ".npz":
            return _read_npz(function, p, max_cells)
        size = p.stat().st_size
        if size > TEXT_BYTES_PER_CELL * max_cells:
            raise ProblemTooLargeError(
                function, "path", f"has {size} bytes, over {TEXT_BYTES_PER_CELL} x max_cells="
                f"{max_cells}; got {str(p)!r}",
            )  # fmt: skip
        if suffix == ".json":
            obj = json.loads(p.read_text())
            if not isinstance(obj, dict):
                raise ValueError("the top level must be an object")
            return obj
        text = p.read_text().replace(",", " ")
        rows = [ln.split("#", 1)[0].split() for ln in text.splitlines()]
        return {name: [[float(x) for x in r] for r in rows if r]}
    except (OSError, ValueError, KeyError, EOFError, RecursionError, MemoryError) as exc:
        if isinstance(exc, MechsolveInputError):
            raise
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise MechsolveInputError(
            function, "path", f"could not be read: {detail or type(exc).__name__}; got {str(p)!r}"
        ) from exc


def _read_npz(function: str, p: Path, max_cells: int) -> dict[str, Any]:
    """Every array of an archive, each header checked against ``max_cells`` before its data
    is read (the data may be compressed far below its size)."""
    with np.load(p, allow_pickle=False) as data:
        names = set(data.zip.namelist())
        for key in data.files:
            with data.zip.open(f"{key}.npy" if f"{key}.npy" in names else key) as member:
                version = np.lib.format.read_magic(member)
                header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape = header(member)[0]
            _check_cells(function, p, key, shape, max_cells)
        return {k: data[k] for k in data.files}


def _check_cells(function: str, p: Path, key: str, shape: tuple[int, ...], max_cells: int) -> None:
    cells = math.prod(shape)
    if cells > max_cells:
        raise ProblemTooLargeError(
            function, "path", f"declares {cells} values in {key!r} (shape {tuple(shape)}), over "
            f"max_cells={max_cells}; got {str(p)!r}",
        )  # fmt: skip
