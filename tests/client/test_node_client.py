"""The Node.js client (client/node/): its conformance script against a real server, and its
vendored protos against the ones the Python packages embed.

The conformance test needs ``node`` and ``npm``: it installs client/node's pinned packages from
the npm registry once (``npm ci``; skipped when node_modules already holds what
package-lock.json names) and skips, saying why, when Node is missing or the install fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mechsolve.server.app import RunningServer, build_server
from mechsolve.server.config import ServerConfig

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "client" / "node"
STAMP = NODE_DIR / "node_modules" / ".mechsolve-install-stamp"
MIN_NODE = 18
INSTALL_SECONDS = 300

EXPECTED = (
    "ok health: SERVING",
    "ok pareto: actions_after [0,0] welfare_after 4",
    "ok stream: 3 batches, each built from the previous answer, answered in order (sizes 2, 3, 4)",
    "ok bad-request: INVALID_ARGUMENT field actions[1]",
    "ok bad-stream-message: INVALID_ARGUMENT field batch.actions[1][1] after one answer",
    "ok auction: revenue 0.312500 (grid optimum 5/16; continuous optimum 0.25, K=4)",
    "conformance: all checks passed",
)


def _manifest_digest() -> str:
    """What node_modules must match: package.json and package-lock.json."""
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        path = NODE_DIR / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    return h.hexdigest()


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    """One install at a time (pytest-xdist workers, concurrent runs of the suite)."""
    key = hashlib.sha256(str(NODE_DIR).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"mechsolve-node-install-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js not installed (`node` and `npm` are needed to test client/node)")
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    match = re.match(r"v(\d+)\.", out.stdout.strip())
    if match is None or int(match.group(1)) < MIN_NODE:
        pytest.skip(f"Node.js {out.stdout.strip() or '?'} is older than v{MIN_NODE}")
    return node, npm


@pytest.fixture(scope="module")
def node() -> str:
    """``node``, with client/node's packages installed (skip: Node missing, install failed)."""
    node, npm = _tools()
    digest = _manifest_digest()
    with _install_lock():
        if STAMP.exists() and STAMP.read_text() == digest:
            return node
        ci = (NODE_DIR / "package-lock.json").exists()
        cmd = [npm, "ci" if ci else "install", "--no-audit", "--no-fund", "--ignore-scripts"]
        env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_loglevel": "error"}
        try:
            out = subprocess.run(
                cmd, cwd=NODE_DIR, capture_output=True, text=True, timeout=INSTALL_SECONDS, env=env
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"`{' '.join(cmd[1:])}` in client/node took over {INSTALL_SECONDS} s")
        if out.returncode != 0:
            lines = (out.stderr or out.stdout).strip().splitlines()
            why = " | ".join([x for x in lines if not re.match(r"npm error\s+at ", x)][:4])
            pytest.skip(f"`npm {cmd[1]}` in client/node failed (npm registry unreachable?): {why}")
        STAMP.write_text(digest)
    return node


@pytest.fixture(scope="module")
def live_server() -> Iterator[RunningServer]:
    running = build_server(ServerConfig(port=0))
    yield running
    running.stop(grace=0.5)


def test_node_conformance_script(node: str, live_server: RunningServer) -> None:
    """Health, a Pareto query, the bidirectional stream (each batch built from the last
    answer), bad requests with their google.rpc.BadRequest decoded, and an auction, all from
    Node through the repository's .proto files."""
    out = subprocess.run(
        [node, str(NODE_DIR / "conformance.js"), live_server.address],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines == list(EXPECTED), out.stdout + out.stderr


def test_vendored_protos_are_the_ones_the_server_uses(tmp_path: Path) -> None:
    """client/node/protos/ (health, google.rpc.Status and BadRequest) describe the same
    messages and services as the descriptors grpcio-health-checking and
    googleapis-common-protos embed (the server's)."""
    grpc_tools = pytest.importorskip("grpc_tools")
    from google.protobuf import descriptor_pb2
    from google.rpc import error_details_pb2, status_pb2
    from grpc_health.v1 import health_pb2

    files = {
        "grpc/health/v1/health.proto": health_pb2,
        "google/rpc/status.proto": status_pb2,
        "google/rpc/error_details.proto": error_details_pb2,
    }
    out = tmp_path / "set.pb"
    include = Path(grpc_tools.__file__).parent / "_proto"
    # protoc runs in its own process: grpc_tools bundles a C++ protobuf/abseil that aborts a
    # later import of OR-Tools' extensions in the same process
    args = [sys.executable, "-m", "grpc_tools.protoc", f"-I{NODE_DIR / 'protos'}", f"-I{include}"]
    made = subprocess.run(
        [*args, f"--descriptor_set_out={out}", *files], capture_output=True, text=True, timeout=120
    )
    assert made.returncode == 0, made.stderr
    compiled = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file

    def normalized(fd: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
        fd.ClearField("name")  # grpcio-health-checking names it grpc_health/v1/health.proto
        fd.ClearField("source_code_info")
        stack = list(fd.message_type)
        while stack:  # protoc fills json_name; the embedded descriptors leave it out
            message = stack.pop()
            for field in message.field:
                field.ClearField("json_name")
            stack.extend(message.nested_type)
        return fd

    assert [fd.name for fd in compiled] == list(files)
    for fd, (name, module) in zip(compiled, files.items(), strict=True):
        embedded = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(embedded)
        assert normalized(fd) == normalized(embedded), f"client/node/protos/{name} differs"
