"""The rows a constraint-generation loop appends to one persistent HiGHS model."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..core.highs_backend import INF

DROP_AFTER = 3
"""Generated rows slack in this many consecutive LP solves are deleted from the model ..."""
DROP_ROUNDS = 40
"""... during the first this many solves only (afterwards rows are only added)."""
ADD_CHUNK = 1_000_000
"""Rows passed to HiGHS per ``addRows`` call."""


class CutPool:
    """The rows appended to the persistent HiGHS model after its static rows: IC rows (keyed by
    ``row * R + misreport row``) and Border rows (keyed by content). Rows added after
    :meth:`freeze` that stay slack for :data:`DROP_AFTER` consecutive solves are deleted during
    the first :data:`DROP_ROUNDS` solves (they are re-added if they become violated again);
    afterwards rows are only added, so generation terminates."""

    def __init__(self, h: Any) -> None:
        self.h = h
        self.base = int(h.getNumRow())
        self.ic_keys: set[int] = set()
        self.border_keys: set[bytes] = set()
        self.keys: list[int | bytes] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.slack = np.zeros(0, dtype=np.int64)
        self.ic_rows = 0
        self.border_rows = 0

    def freeze(self) -> None:
        """Make every row added so far (the seeds) permanent."""
        self.base = int(self.h.getNumRow())
        self.keys, self.lo, self.hi = [], [], []
        self.slack = np.zeros(0, dtype=np.int64)

    def fresh_ic(self, keys: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which IC keys are not in the model."""
        return np.array([int(k) not in self.ic_keys for k in keys], dtype=np.bool_)

    def fresh_border(self, key: bytes) -> bool:
        return key not in self.border_keys

    def add_ic(self, mat: sp.csr_array, keys: NDArray[np.int64]) -> None:
        add_rows(self.h, mat, 0.0, INF)
        new = [int(k) for k in keys]
        self.ic_keys.update(new)
        self._track(new, 0.0, INF)
        self.ic_rows += len(new)

    def add_borders(self, rows: list[tuple[sp.csr_array, float, bytes]]) -> None:
        """Append Border rows ``mat . x <= rhs`` (one ``addRows`` call for all of them)."""
        if not rows:
            return
        rhs = np.array([r for _, r, _ in rows])
        add_rows(self.h, sp.vstack([mat for mat, _, _ in rows], format="csr"), -INF, rhs)
        keys = [key for _, _, key in rows]
        self.border_keys.update(keys)
        self._track(keys, -INF, rhs.tolist())
        self.border_rows += len(keys)

    def _track(self, keys: list[int] | list[bytes], lo: float, hi: float | list[float]) -> None:
        self.keys.extend(keys)
        self.lo.extend([lo] * len(keys))
        self.hi.extend(hi if isinstance(hi, list) else [hi] * len(keys))
        self.slack = np.concatenate([self.slack, np.zeros(len(keys), dtype=np.int64)])

    def age(self, row_value: NDArray[np.float64], tol: float, rounds: int) -> None:
        """Count, per generated row, the consecutive solves in which it was slack."""
        if rounds > DROP_ROUNDS or not self.keys:
            return
        act = row_value[self.base :]
        slack = np.minimum(act - np.asarray(self.lo), np.asarray(self.hi) - act)
        self.slack = np.where(slack > tol, self.slack + 1, 0)

    def drop_aged(self) -> None:
        """Delete the rows slack for :data:`DROP_AFTER` consecutive solves."""
        drop = np.nonzero(self.slack >= DROP_AFTER)[0]
        if drop.size == 0:
            return
        self.h.deleteRows(int(drop.size), (self.base + drop).astype(np.int32))
        for k in drop:
            key = self.keys[k]
            if isinstance(key, bytes):
                self.border_keys.discard(key)
                self.border_rows -= 1
            else:
                self.ic_keys.discard(key)
                self.ic_rows -= 1
        keep = np.ones(len(self.keys), dtype=np.bool_)
        keep[drop] = False
        self.keys = [k for k, ok in zip(self.keys, keep, strict=True) if ok]
        self.lo = [x for x, ok in zip(self.lo, keep, strict=True) if ok]
        self.hi = [x for x, ok in zip(self.hi, keep, strict=True) if ok]
        self.slack = self.slack[keep]


def add_rows(
    h: object, mat: sp.csr_array, lo: float | NDArray[np.float64], hi: float | NDArray[np.float64]
) -> int:
    """Append CSR rows with bounds to the HiGHS model, in chunks; returns the row count."""
    n = int(mat.shape[0])
    lo_arr = np.broadcast_to(np.asarray(lo, dtype=np.float64), (n,))
    hi_arr = np.broadcast_to(np.asarray(hi, dtype=np.float64), (n,))
    for s in range(0, n, ADD_CHUNK):
        part = mat[s : s + ADD_CHUNK]
        k = int(part.shape[0])
        h.addRows(  # type: ignore[attr-defined]
            k,
            np.ascontiguousarray(lo_arr[s : s + k]),
            np.ascontiguousarray(hi_arr[s : s + k]),
            int(part.nnz),
            part.indptr[:-1].astype(np.int32),
            part.indices.astype(np.int32),
            part.data.astype(np.float64),
        )
    return n
