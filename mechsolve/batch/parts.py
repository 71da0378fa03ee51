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

    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(list(rows)), sink)
    return sink.getvalue()


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

    def assemble(self, chunks: int) -> Path:
        """Join parts ``0 .. chunks-1`` into the output (atomically), then drop the folder."""
        parts = [self.part(i) for i in range(chunks)]
        missing = [p.name for p in parts if not p.is_file()]
        if missing:
            raise MechsolveError(f"cannot assemble {self.output}: parts missing: {missing[:5]}")
        if self.fmt == "jsonl":
            write_atomically(self.output, lambda f: _concatenate(parts, f))
        else:
            write_atomically(self.output, lambda f: _join_parquet(parts, f))
        shutil.rmtree(self.folder, ignore_errors=True)
        return self.output


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
    unified (permissive promotion) and each part is read, promoted and written in turn."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pa.unify_schemas([pq.read_schema(p) for p in parts], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise MechsolveError(
            f"the parts' columns do not unify into one Parquet schema ({exc}); are all ids "
            "of one type (integers or strings)? Write JSON lines (.jsonl) instead"
        ) from exc
    empty = schema.empty_table()
    with pq.ParquetWriter(out, schema) as writer:
        for p in parts:
            table = pa.concat_tables([empty, pq.read_table(p)], promote_options="permissive")
            writer.write_table(table.select(schema.names).cast(schema))
