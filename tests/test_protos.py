"""The committed gRPC stubs and client method stubs match a fresh generation, the generator is
the pinned one, and the API passes ``buf lint`` (Google API design rules)."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STUBS = ROOT / "mechsolve" / "v1"


def test_committed_stubs_are_fresh(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    fresh = {
        p.name: p.read_bytes()
        for p in (tmp_path / "mechsolve" / "v1").iterdir()
        if p.suffix in (".py", ".pyi")
    }
    committed = {
        p.name: p.read_bytes()
        for p in STUBS.iterdir()
        if p.name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi"))
    }
    assert sorted(fresh) == sorted(committed), "run: python scripts/gen_protos.py"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale stubs {stale}: run python scripts/gen_protos.py"


def test_generator_and_runtime_versions_are_the_pinned_ones() -> None:
    assert importlib.metadata.version("grpcio-tools") == "1.81.1"
    protobuf = tuple(int(x) for x in importlib.metadata.version("protobuf").split(".")[:2])
    assert protobuf == (6, 33), "OR-Tools 9.15 needs protobuf < 6.34; the stubs need >= 6.33.5"
    from google.protobuf import runtime_version

    assert runtime_version.MAJOR == 6 and runtime_version.MINOR == 33


def _buf() -> str | None:
    for candidate in (
        os.environ.get("MECHSOLVE_BUF"),
        shutil.which("buf"),
        str(ROOT / ".ci" / "node_modules" / ".bin" / "buf"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def test_buf_lint() -> None:
    buf = _buf()
    if buf is None:
        pytest.skip("buf not installed (npm install @bufbuild/buf; .ci/run installs it)")
    out = subprocess.run([buf, "lint"], cwd=ROOT / "proto", capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_client_method_stubs_are_fresh() -> None:
    """client/methods.pyi spells out the methods made from the declarations (for mypy and
    editors); it must match a fresh generation."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_client_stubs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr + out.stdout
