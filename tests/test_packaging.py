"""Packaging, CI and container stay consistent with what the README tells a new user."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _setup_commands() -> list[str]:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", quick, re.S)]


def test_every_package_folder_is_listed() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    for name, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            pkg = ".".join([name, *rel.parts]) if rel.parts else name
            assert pkg in listed, f"{pkg} ({init.parent}) is missing from pyproject packages"


def test_readme_has_exactly_two_setup_commands() -> None:
    cmds = _setup_commands()
    assert len(cmds) == 2
    assert cmds[0].endswith("mechsolve demo") and "pip install ." in cmds[0]
    assert '".[test]"' in cmds[1] and "pytest" in cmds[1]
    assert all("\n" not in c for c in cmds)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert _setup_commands()[1] in ci.splitlines()


def test_dockerfile_installs_with_the_readme_command_and_serves() -> None:
    install = _setup_commands()[0].split(" && ")
    assert f"RUN {install[0]} && {install[1]}" in DOCKERFILE
    froms = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert len(froms) >= 2 and all(
        re.fullmatch(r"python:3\.11\.\d+-slim\S*", f.split(" ")[0]) for f in froms
    )
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.M)
    assert 'ENTRYPOINT ["mechsolve", "serve", "--host", "0.0.0.0", "--insecure"]' in DOCKERFILE
    assert re.search(r'HEALTHCHECK .*\n?\s*CMD \["mechsolve", "health"', DOCKERFILE)
    assert "EXPOSE 50051" in DOCKERFILE


def test_console_script_and_pins() -> None:
    assert PYPROJECT["project"]["scripts"]["mechsolve"] == "mechsolve.cli:main"
    deps = " ".join(PYPROJECT["project"]["dependencies"])
    assert "protobuf>=6.33.5,<6.34" in deps and "ortools==9.15" in deps
    assert "grpcio-tools==1.81.1" in PYPROJECT["project"]["optional-dependencies"]["test"]


def test_highspy_and_ortools_load_in_one_process_in_either_order() -> None:
    """OR-Tools bundles libhighs.so.1 (HiGHS 1.12.0); a highspy with another HiGHS version
    fails to load next to it (undefined symbol), so highspy is pinned to 1.12.0."""
    import subprocess
    import sys

    first = "import highspy; h = highspy.Highs(); h.silent()"
    second = "from ortools.graph.python import min_cost_flow; min_cost_flow.SimpleMinCostFlow()"
    for a, b in ((first, second), (second, first)):
        out = subprocess.run([sys.executable, "-c", f"{a}\n{b}"], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr


def test_the_folders_import_only_as_mechsolve_packages() -> None:
    """``solver/``, ``server/`` and ``client/`` are ``mechsolve.solver`` etc.; imported as
    top-level packages (as a script run from the checkout could) their enums would be other
    objects, so the import is refused."""
    import subprocess
    import sys

    for name in ("solver", "server", "client"):
        out = subprocess.run(
            [sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True
        )
        assert out.returncode != 0 and f"mechsolve.{name}" in out.stderr, out.stderr
    ok = subprocess.run(
        [sys.executable, "-c", "import mechsolve.solver, mechsolve.server, mechsolve.client"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr


def test_the_container_entrypoint_serves_on_every_interface(tmp_path: Path) -> None:
    """The image's ENTRYPOINT, run here as it is (plus a free port): it starts, warns that it
    serves without TLS, and answers health checks."""
    import json
    import subprocess
    import sys
    import time

    from mechsolve.server.app import free_port

    entry = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", DOCKERFILE, re.M)[1])  # type: ignore[index]
    assert entry[:2] == ["mechsolve", "serve"]
    port = free_port("0.0.0.0")
    log = tmp_path / "serve.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mechsolve", *entry[1:], "--port", str(port)], stderr=err
        )
    try:
        for _ in range(150):
            ok = subprocess.run(
                [sys.executable, "-m", "mechsolve", "health", "--address", f"127.0.0.1:{port}"],
                capture_output=True,
            )
            if ok.returncode == 0:
                break
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        assert ok.returncode == 0, log.read_text()
        assert "without TLS" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
