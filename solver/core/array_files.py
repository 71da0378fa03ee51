"""Arrays from files, for the command line (valuation samples, mechanism tables, values).

A ``.npy`` array (returned under the caller's ``name``), a ``.npz`` archive (every array under
its own name), a ``.json`` object (its keys), or a ``.csv`` / ``.txt`` table (comma- or
whitespace-separated numbers, ``#`` comments; returned under ``name``). Every failure is a
:class:`MechsolveInputError` on ``path``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .errors import MechsolveInputError

SUFFIXES = (".npy", ".npz", ".json", ".csv", ".txt")


def read_arrays(function: str, path: Any, name: str) -> dict[str, Any]:
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
            return {name: np.load(p, allow_pickle=False)}
        if suffix == ".npz":
            with np.load(p, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        if suffix == ".json":
            obj = json.loads(p.read_text())
            if not isinstance(obj, dict):
                raise ValueError("the top level must be an object")
            return obj
        text = p.read_text().replace(",", " ")
        rows = [ln.split("#", 1)[0].split() for ln in text.splitlines()]
        return {name: [[float(x) for x in r] for r in rows if r]}
    except (OSError, ValueError) as exc:
        raise MechsolveInputError(
            function, "path", f"could not be read: {exc}; got {str(p)!r}"
        ) from exc
