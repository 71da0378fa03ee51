"""Every example in the README runs: its Python blocks in order, in one namespace, with the
client examples pointed at a real server, and every ``mechsolve`` command of its shell blocks
(with the ``python -c`` lines that make their input files, in order) except those that serve
or run for minutes (``serve``, ``demo``: their own tests run them)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mechsolve.server.app import RunningServer

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
EXAMPLE_ADDRESS = "127.0.0.1:50051"
NOT_RUN = ("mechsolve serve", "mechsolve demo")


def _blocks(language: str) -> list[str]:
    body = README.split("## Mediators on normal-form games", 1)[1]  # after the setup commands
    return re.findall(rf"```{language}\n(.*?)```", body, re.S)


def _commands() -> list[str]:
    lines = [
        line.split("  #")[0].strip() for block in _blocks("bash") for line in block.splitlines()
    ]
    return [
        line
        for line in lines
        if line.startswith(("mechsolve ", "python -c ")) and not line.startswith(NOT_RUN)
    ]


@pytest.mark.slow
def test_readme_examples_run(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = "\n\n".join(_blocks("python")).replace(EXAMPLE_ADDRESS, server.address)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    commands = _commands()
    assert len(commands) >= 8
    for command in commands:
        args = shlex.split(command.replace(EXAMPLE_ADDRESS, server.address))
        program = [sys.executable] if args[0] == "python" else [sys.executable, "-m", "mechsolve"]
        out = subprocess.run([*program, *args[1:]], capture_output=True, text=True)
        assert out.returncode == 0, f"{command}\n{out.stdout}\n{out.stderr}"
