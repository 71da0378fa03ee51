"""Committed chunks: each chunk's rows in a part file written atomically (a temporary file,
fsync, rename, fsync of the folder), a manifest naming the run the parts belong to, and the
output assembled from the parts in input order.

``OUTPUT.parts/`` holds ``manifest.json`` and ``part-NNNNNNNN.jsonl`` (or ``.parquet``); a
part exists only once complete, so a run killed at any point resumes by skipping the chunks
whose part exists, and every record is in the output exactly once. The folder is removed
after the output has been renamed into place.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from mechsolve.solver.core.errors import MechsolveError

MANIFEST = "manifest.json"
_JSON = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_PART = re.compile(r"part-(\d{8})\.(jsonl|parquet)$")


def encode_rows(rows: Sequence[dict[str, Any]], fmt: str) -> bytes:
    """A part file's bytes: JSON lines, or a Parquet file (the schema inferred from the rows)."""
    if fmt == "jsonl":
        return "".join(_JSON.encode(r) + "\n" for r in rows).encode()
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pylist(list(rows))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # see _as_text
        table = _as_text(list(rows))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _as_text(rows: list[dict[str, Any]]) -> Any:
    """Rows whose ids or results do not fit one Parquet column type (integer and text ids,
    ids beyond int64, results of different shapes from different RPCs) with the id as text and
    the result as JSON text."""
    import pyarrow as pa

    schema = pa.schema(
        [
            ("id", pa.string()),
            ("rpc", pa.string()),
            ("status", pa.string()),
            ("error", pa.string()),
            ("seconds", pa.float64()),
            ("result", pa.string()),
        ]
    )
    out = [
        {
            **r,
            "id": None if r.get("id") is None else str(r["id"]),
            "result": None if r.get("result") is None else _JSON.encode(r["result"]),
        }
        for r in rows
    ]
    return pa.Table.from_pylist(out, schema=schema)


def iter_rows(path: Path) -> Iterator[dict[str, Any]]:
    """An output file's rows in order (JSON lines or Parquet), streamed."""
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as pf:
            for batch in pf.iter_batches(batch_size=4096):
                yield from batch.to_pylist()
        return
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def write_atomically(path: Path, write: Any) -> None:
    """``write(file)`` into a temporary file beside ``path``, fsync it, rename it to ``path``
    and fsync the folder: ``path`` is either absent or complete, whatever kills the process."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Parts:
    """The part files of one output (module docstring)."""

    def __init__(self, output: Path, fmt: str, identity: dict[str, Any]) -> None:
        self.output, self.fmt, self.identity = output, fmt, identity
        self.folder = output.with_name(output.name + ".parts")

    @property
    def record(self) -> Path:
        """``OUTPUT.batch.json``: the identity of the run that wrote the output, and its size."""
        return self.output.with_name(self.output.name + ".batch.json")

    def lock(self) -> _Lock:
        """Hold ``OUTPUT.lock`` for the run: a second run on the same output is refused."""
        return _Lock(self.output.with_name(self.output.name + ".lock"), self.output)

    def check_complete(self) -> None:
        """The output was written by a run of this identity; refuse anything else."""
        try:
            found = json.loads(self.record.read_text()).get("identity")
        except (OSError, ValueError, AttributeError):
            found = None
        if found != self.identity:
            raise MechsolveError(
                f"{self.output} exists but was not written by this command (another input or "
                f"options, or no {self.record.name}): remove it, or add --restart to solve again"
            )

    def part(self, index: int) -> Path:
        return self.folder / f"part-{index:08d}.{self.fmt}"

    def open(self, restart: bool = False) -> set[int]:
        """The chunks already committed (none for a new run); refuses parts of another run."""
        if restart:
            shutil.rmtree(self.folder, ignore_errors=True)
        manifest = self.folder / MANIFEST
        if self.folder.is_dir() and manifest.is_file():
            found = json.loads(manifest.read_text())
            if found.get("identity") != self.identity:
                raise MechsolveError(
                    f"{self.folder} holds the parts of another run (input, chunk size or "
                    f"options differ: {_differences(found.get('identity'), self.identity)}); "
                    "rerun the same command to resume, or add --restart to start over"
                )
            for stray in self.folder.glob(".*.tmp"):
                stray.unlink(missing_ok=True)
            return {int(m.group(1)) for p in self.folder.iterdir() if (m := _PART.match(p.name))}
        shutil.rmtree(self.folder, ignore_errors=True)  # no manifest: nothing was committed
        self.folder.mkdir(parents=True)
        body = json.dumps({"identity": self.identity}, indent=2).encode()
        write_atomically(manifest, lambda f: f.write(body))
        return set()

    def commit(self, index: int, payload: bytes) -> None:
        write_atomically(self.part(index), lambda f: f.write(payload))

    def assemble(self, chunks: int, records: int) -> Path:
        """Join parts ``0 .. chunks-1`` into the output (atomically), record the run beside
        it, then drop the folder."""
        parts = [self.part(i) for i in range(chunks)]
        missing = [p.name for p in parts if not p.is_file()]
        if missing:
            raise MechsolveError(f"cannot assemble {self.output}: parts missing: {missing[:5]}")
        if self.fmt == "jsonl":
            write_atomically(self.output, lambda f: _concatenate(parts, f))
        else:
            write_atomically(self.output, lambda f: _join_parquet(parts, f))
        body = json.dumps({"identity": self.identity, "records": records}, indent=2).encode()
        write_atomically(self.record, lambda f: f.write(body))
        shutil.rmtree(self.folder, ignore_errors=True)
        return self.output


class _Lock:
    """An exclusive ``flock`` on a lock file beside the output, released on exit."""

    def __init__(self, path: Path, output: Path) -> None:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            raise MechsolveError(
                f"another mechsolve batch is writing {output} (it holds {path.name})"
            ) from None

    def __enter__(self) -> _Lock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)
        os.close(self.fd)


def _differences(old: Any, new: dict[str, Any]) -> str:
    if not isinstance(old, dict):
        return "no identity"
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in keys)


def _concatenate(parts: Sequence[Path], out: BinaryIO) -> None:
    for p in parts:
        with p.open("rb") as f:
            shutil.copyfileobj(f, out, 1 << 20)


def _join_parquet(parts: Sequence[Path], out: BinaryIO) -> None:
    """One Parquet file from parts whose schemas may differ where a field was null in one
    part and typed in another (or an RPC's result in one part only): the schemas are
    unified (permissive promotion) and each part is read, promoted and written in turn. Parts
    that do not unify (text and integer ids, results of different shapes) are all written
    with the id as text and the result as JSON text (:func:`_as_text`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = _as_text([]).schema
    if not parts:
        pq.write_table(text.empty_table(), out)
        return
    try:
        schema = pa.unify_schemas([pq.read_schema(p) for p in parts], promote_options="permissive")
        as_text = False
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # struct and text results, int and text ids
        schema, as_text = text, True
    empty = schema.empty_table()
    with pq.ParquetWriter(out, schema) as writer:
        for p in parts:
            table = pq.read_table(p)
            if as_text:
                table = _as_text(table.to_pylist()) if table.schema != text else table
            else:
                table = pa.concat_tables([empty, table], promote_options="permissive")
            writer.write_table(table.select(schema.names).cast(schema))
