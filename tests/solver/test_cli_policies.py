"""``mechsolve policies VALUES --budget K``: every file format, the optimum of a brute force
over every k-set, the same answer through a live server, and one-line errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from mechsolve.batch import same_answer
from mechsolve.cli import main
from mechsolve.server.app import RunningServer
from mechsolve.solver.structured.policy_enumeration import default_threads

RNG = np.random.default_rng(7)
V = RNG.random((12, 9))


def _brute_force(values: np.ndarray, k: int) -> float:
    return max(
        values[:, list(s)].max(axis=1).sum()
        for s in itertools.combinations(range(values.shape[1]), k)
    )


def _write(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"values.{kind}"
    if kind == "npy":
        np.save(path, V)
    elif kind == "npz":
        np.savez(path, anything=V)  # one array: its name does not matter
    elif kind == "json":
        path.write_text(json.dumps({"values": V.tolist()}))
    else:
        np.savetxt(path, V, delimiter="," if kind == "csv" else " ")
    return path


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict:
    assert main(["policies", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("kind", ["npy", "npz", "json", "csv", "txt"])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_every_format_gives_the_brute_force_optimum(
    kind: str, k: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _json(capsys, [str(_write(tmp_path, kind)), "--budget", str(k)])
    assert out["info"]["termination"]["reason"] == "optimal"
    assert out["welfare"] == pytest.approx(_brute_force(V, k), abs=1e-9)
    assert len(out["chosen"]) <= k


def test_text_output_and_the_server_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: RunningServer
) -> None:
    path = str(_write(tmp_path, "npy"))
    assert main(["policies", path, "-k", "3"]) == 0
    text = capsys.readouterr().out
    assert "termination: optimal" in text
    assert "users per chosen policy: " in text
    counts = text.split("users per chosen policy: ")[1].splitlines()[0]
    assert sum(int(c.split(": ")[1]) for c in counts.split(", ")) == V.shape[0]
    local = _json(capsys, [path, "-k", "3"])
    remote = _json(capsys, [path, "-k", "3", "--address", server.address])
    # the enumeration's threads: every CPU in process (at most 8); the server's share of its CPUs
    said = [r["info"]["termination"].pop("detail") for r in (local, remote)]
    for message, threads in zip(
        said, (min(default_threads(), 8), server.config.solver_limits.max_threads), strict=True
    ):
        assert message.startswith("bounded set enumeration, "), message
        assert message.endswith(f" {threads} thread{'s' * (threads > 1)}"), (message, threads)
    assert same_answer({"result": local}, {"result": remote}), (local, remote)
    milp = _json(capsys, [path, "-k", "3", "--method", "milp", "--address", server.address])
    assert milp["info"]["method"] == "benders_milp"
    assert milp["welfare"] == pytest.approx(local["welfare"], abs=1e-9)
    heuristic = _json(capsys, [path, "-k", "3", "--method", "alternating"])
    assert heuristic["welfare"] <= local["welfare"] + 1e-9
    assert heuristic["info"]["termination"]["reason"] == "feasible"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.npy", "must be an existing file"),
        (lambda p: (p / "v.xlsx").write_text("1") and p / "v.xlsx", "must end in"),
        (lambda p: (p / "v.csv").write_text("1, x\n") and p / "v.csv", "could not be read"),
        (
            lambda p: np.savez(p / "two.npz", a=V, b=V) or p / "two.npz",
            "must hold an array named 'values'",
        ),
        (lambda p: np.save(p / "v1.npy", V[0]) or p / "v1.npy", "`values` must have 2 dimension"),
        (  # a lone key is the values only in an .npz
            lambda p: (p / "o.json").write_text('{"other": [[1, 2]]}') and p / "o.json",
            "must hold an array named 'values'",
        ),
        (lambda p: (p / "e.npy").write_bytes(b"") or p / "e.npy", "could not be read"),
    ],
)
def test_bad_files_are_one_line(
    make: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    assert main(["policies", str(path), "--budget", "2"]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1


def test_an_unreachable_server_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mechsolve.server.app import free_port

    path = str(_write(tmp_path, "npy"))
    address = f"127.0.0.1:{free_port()}"
    assert main(["policies", path, "-k", "2", "--address", address, "--time-limit", "2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mechsolve policies: error: ") and "UNAVAILABLE" in err, err
    assert len(err.strip().splitlines()) == 1


def test_a_huge_time_limit_is_a_long_deadline_not_an_overflow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: RunningServer
) -> None:
    path = str(_write(tmp_path, "npy"))
    out = _json(capsys, [path, "-k", "2", "--address", server.address, "--time-limit", "1e308"])
    assert out["info"]["termination"]["reason"] == "optimal"
