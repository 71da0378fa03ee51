"""``mechsolve demo`` end to end: a real server started by the command, real gRPC calls, a
real PNG (the learners and the runner are tested in test_simulations.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_demo_command_end_to_end(tmp_path: Path) -> None:
    plot, table = tmp_path / "demo.png", tmp_path / "table.json"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mechsolve",
            "demo",
            "--rounds",
            "80",
            "--games",
            "3",
            "--populations",
            "16",
            "--no-progress",
            "--plot",
            str(plot),
            "--json",
            str(table),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert "server 127.0.0.1:" in out  # it served over a loopback socket
    assert "mean reward" in out and "pareto" in out and "punishing" in out
    rows = {r["arm"]: r for r in json.loads(table.read_text())}
    assert rows["pareto"]["mean_reward"] >= rows["original"]["mean_reward"]
    assert rows["original"]["share_delegating"] == 0.0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot: {plot}" in out
