"""``mechsolve batch`` on real files and real processes: a batch equals solving each record
in-process; a run killed with SIGKILL at random points and resumed gives each record exactly
once, as an uninterrupted run does; malformed records get the service's own errors while the
rest succeed; the local pool, a Ray instance and a mechsolve server give identical output."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mechsolve.batch import BatchJob, iter_rows, run, same_answer
from mechsolve.codec.plain import plain
from mechsolve.server.app import RunningServer
from mechsolve.solver.games import random_game, write_game
from mechsolve.solver.mediators import mediate, pure_nash_equilibria
from mechsolve.v1 import mediators_pb2 as pb
from mechsolve.v1 import mediators_pb2_grpc as mgrpc

GAME_SIZES = {"a.npz": [3, 4, 2], "b.nfg": [2, 5, 3, 2], "c.json": [6, 6]}
MEDIATORS = ("pareto", "punishing", "central_planner")
WELFARES = ("utilitarian", "egalitarian")


def _games(folder: Path) -> dict[str, Any]:
    games = {}
    for i, (name, sizes) in enumerate(GAME_SIZES.items()):
        games[name] = random_game(sizes, seed=100 + i)
        write_game(games[name], folder / name)
    return games


def _records(games: dict[str, Any], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` Mediate records over the game files (mixed mediators and welfare functions, so
    records fall into many vectorized groups), every 50th a FindPureEquilibria record."""
    rng = np.random.default_rng(seed)
    names = list(games)
    out: list[dict[str, Any]] = []
    for i in range(n):
        name = names[int(rng.integers(len(names)))]
        game = games[name]
        if i % 50 == 49:
            out.append({"id": f"r{i}", "rpc": "FindPureEquilibria", "game_file": name})
            continue
        out.append(
            {
                "id": f"r{i}",
                "game_file": name,
                "actions": [int(rng.integers(k)) for k in game.num_actions],
                "delegate": [bool(b) for b in rng.random(game.n_players) < 0.7],
                "mediator": MEDIATORS[int(rng.integers(3))],
                "welfare": {"kind": WELFARES[int(rng.integers(2))]},
            }
        )
    return out


def _write_jsonl(path: Path, records: list[Any]) -> Path:
    with path.open("w") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return path


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [sys.executable, "-m", "mechsolve", "batch", *args, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


def _rows(path: Path) -> list[dict[str, Any]]:
    return list(iter_rows(path))


def _assert_same_rows(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    assert [r["id"] for r in a] == [r["id"] for r in b]
    differ = [x["id"] for x, y in zip(a, b, strict=True) if not same_answer(x, y)]
    assert not differ, differ[:5]


def test_a_batch_equals_each_record_solved_in_process(tmp_path: Path) -> None:
    games = _games(tmp_path)
    records = _records(games, 3000)
    source = _write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    _cli(str(source), str(out), "--rpc", "Mediate", "--chunk-size", "256", "--processes", "2")
    rows = _rows(out)
    assert len(rows) == len(records)
    for rec, row in zip(records, rows, strict=True):
        assert row["id"] == rec["id"] and row["status"] == "OK", row
        game = games[rec["game_file"]]
        if rec.get("rpc") == "FindPureEquilibria":
            expected = pure_nash_equilibria(game)
        else:
            expected = mediate(
                game,
                rec["actions"],
                rec["delegate"],
                mediator=rec["mediator"],
                welfare=rec["welfare"]["kind"],
            )
            result = row["result"]
            # the guarantees, on every record: non-delegators keep their actions under Pareto
            # and Punishing, and delegators are never worse off under Pareto
            for i, d in enumerate(rec["delegate"]):
                if not d and rec["mediator"] != "central_planner":
                    assert result["actions_after"][i] == rec["actions"][i]
                elif d and rec["mediator"] == "pareto":
                    assert result["utilities_after"][i] >= result["utilities_before"][i] - 1e-12
        mine = {"id": rec["id"], "status": "OK", "error": None, "result": plain(expected)}
        assert same_answer(mine, row), rec["id"]


def test_parquet_in_and_out_and_requests_as_json_text(tmp_path: Path) -> None:
    games = _games(tmp_path)
    records = [r for r in _records(games, 600, seed=1) if "rpc" not in r]
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "in.parquet")  # welfare: a struct
    as_text = [
        {
            "id": r["id"],
            "game_file": r["game_file"],
            "request": json.dumps({k: v for k, v in r.items() if k not in ("id", "game_file")}),
        }
        for r in records
    ]
    _write_jsonl(tmp_path / "in.jsonl", as_text)
    _cli(str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet"), "--rpc", "mediate")
    _cli(str(tmp_path / "in.jsonl"), str(tmp_path / "out.jsonl"), "--rpc", "Mediate")
    parquet_rows, json_rows = _rows(tmp_path / "out.parquet"), _rows(tmp_path / "out.jsonl")
    assert len(parquet_rows) == len(records)
    assert all(r["status"] == "OK" for r in parquet_rows)
    _assert_same_rows(parquet_rows, json_rows)
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert schema.field("result").type.get_field_index("welfare_after") >= 0


def _records_with_defects(games: dict[str, Any]) -> list[Any]:
    good = _records(games, 200, seed=2)
    bad: list[Any] = [
        "{not json",
        '["a", "list"]',
        json.dumps(
            {"id": "shape", "game_file": "a.npz", "actions": [0, 1], "delegate": [True, True, True]}
        ),
        json.dumps(
            {
                "id": "range",
                "game_file": "a.npz",
                "actions": [0, 9, 0],
                "delegate": [True, True, True],
            }
        ),
        json.dumps({"id": "rpc", "rpc": "NoSuchRpc", "game_file": "a.npz"}),
        json.dumps({"id": "field", "game_file": "a.npz", "actions": [0, 0, 0], "colour": "red"}),
        json.dumps({"id": "file", "game_file": "missing.nfg", "actions": [0], "delegate": [True]}),
        json.dumps({"id": "both", "game_file": "a.npz", "game": {}, "actions": [0]}),
        json.dumps({"id": ["not", "an", "id"], "game_file": "a.npz"}),
        '{"id": "nan", "rpc": "MediateLottery", "game": {"payoffs": {"shape": [2, 2, 2],'
        ' "values": [1, 2, 3, NaN, 5, 6, 7, 8]}}, "actions": [0, 0], "delegate": [true, true]}',
        json.dumps(
            {
                "id": "enum",
                "game_file": "a.npz",
                "actions": [0, 0, 0],
                "delegate": [True, True, True],
                "mediator": "benevolent",
            }
        ),
    ]
    return good[:100] + bad + good[100:]


def test_malformed_records_get_the_services_errors_and_the_rest_succeed(
    tmp_path: Path, server: RunningServer
) -> None:
    games = _games(tmp_path)
    records = _records_with_defects(games)
    source = _write_jsonl(tmp_path / "in.jsonl", records)
    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    _cli(str(source), str(local), "--rpc", "Mediate", "--chunk-size", "64")
    _cli(
        str(source),
        str(remote),
        "--rpc",
        "Mediate",
        "--chunk-size",
        "64",
        "--address",
        server.address,
    )
    rows = _rows(local)
    assert len(rows) == len(records)
    failed = {str(r["id"]): r for r in rows if r["status"] != "OK"}
    assert len(failed) == 11 and len(rows) - len(failed) == 200
    assert failed["range"]["error"].endswith("[field: actions[1]]")
    assert failed["shape"]["error"].endswith("[field: actions]")
    assert failed["rpc"]["status"] == "UNIMPLEMENTED"
    assert "colour" in failed["field"]["error"]
    assert "missing.nfg" in failed["file"]["error"]
    assert failed["nan"]["error"].endswith("must be finite; got nan [field: game.payoffs[0][1][1]]")
    assert "benevolent" in failed["enum"]["error"]
    assert "not valid JSON" in failed["100"]["error"] and "JSON object" in failed["101"]["error"]
    # the errors the service gives for the same requests, word for word
    _assert_same_rows(rows, _rows(remote))
    with grpc.insecure_channel(server.address) as channel:
        stub = mgrpc.MediatorServiceStub(channel)
        game = games["a.npz"]
        request = pb.MediateRequest(actions=[0, 9, 0], delegate=[True, True, True])
        request.game.payoffs.shape.extend(game.payoffs.shape)
        request.game.payoffs.values.extend(game.payoffs.ravel().tolist())
        with pytest.raises(grpc.RpcError) as err:
            stub.Mediate(request, timeout=10)
    assert err.value.details() == failed["range"]["error"]


def test_dry_run_reports_every_bad_record_and_solves_nothing(tmp_path: Path) -> None:
    games = _games(tmp_path)
    source = _write_jsonl(tmp_path / "in.jsonl", _records_with_defects(games))
    out = _cli(str(source), "--rpc", "Mediate", "--dry-run", check=False)
    assert out.returncode == 1
    # what needs the game to check (an action's range, the profile's length) is the solver's:
    # those two records pass a dry run; every other defect is reported
    assert "INVALID_ARGUMENT 8, OK 202, UNIMPLEMENTED 1" in out.stdout
    for name in ("'nan'", "'enum'", "'field'", "'file'", "'both'", "'rpc'", "100", "101"):
        assert f"record {name}" in out.stdout
    assert not list(tmp_path.glob("*.parts"))


def test_killed_at_random_points_and_resumed_each_record_exactly_once(tmp_path: Path) -> None:
    """20 SIGKILLs of the whole process tree at random moments (start-up, solving, committing,
    assembling), each followed by a rerun of the same command; whenever a run completes the
    output is checked and the next trial starts over."""
    _games(tmp_path)
    rng = np.random.default_rng(7)
    records = [
        {
            "id": i,
            "game_file": "b.nfg",
            "actions": [int(rng.integers(k)) for k in (2, 5, 3, 2)],
            "delegate": [True, True, bool(i % 2), bool(i % 3)],
            "method": "milp",
        }
        for i in range(300)
    ]
    source = _write_jsonl(tmp_path / "in.jsonl", records)
    reference = tmp_path / "reference.jsonl"
    run(
        BatchJob(
            source,
            reference,
            rpc="Mediate",
            chunk_size=10,
            engine="local",
            processes=1,
            progress=False,
        )
    )
    expected = _rows(reference)
    out = tmp_path / "out.jsonl"
    command = [
        sys.executable,
        "-m",
        "mechsolve",
        "batch",
        str(source),
        str(out),
        "--rpc",
        "Mediate",
        "--chunk-size",
        "10",
        "--processes",
        "1",
        "--no-progress",
    ]
    kills = completed = 0
    while kills < 20:
        proc = subprocess.Popen(
            command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            proc.wait(timeout=float(rng.uniform(0.3, 2.5)))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            continue
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
        _assert_same_rows(_rows(out), expected)
        completed += 1
        out.unlink()  # the next trial solves it all again
    final = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    _assert_same_rows(_rows(out), expected)
    assert not (tmp_path / "out.jsonl.parts").exists()
    assert completed + 1 >= 2  # the kills did not prevent runs from finishing


def test_resume_refuses_parts_of_another_run_and_a_complete_output_is_left_alone(
    tmp_path: Path,
) -> None:
    games = _games(tmp_path)
    source = _write_jsonl(tmp_path / "in.jsonl", _records(games, 300))
    out = tmp_path / "out.jsonl"
    parts = tmp_path / "out.jsonl.parts"
    parts.mkdir()
    (parts / "manifest.json").write_text(json.dumps({"identity": {"chunk_size": 7}}))
    refused = _cli(str(source), str(out), "--rpc", "Mediate", check=False)
    assert refused.returncode == 1 and "--restart" in refused.stderr
    _cli(str(source), str(out), "--rpc", "Mediate", "--restart")
    first = out.read_bytes()
    again = _cli(str(source), str(out), "--rpc", "Mediate", "--verify", "25")
    assert "nothing to do" in again.stdout and "25 random records" in again.stdout
    assert "all equal" in again.stdout and out.read_bytes() == first


@pytest.mark.slow
def test_ray_engine_on_a_local_ray_instance_gives_identical_output(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent))
    assert ray_cli is not None
    games = _games(tmp_path)
    source = _write_jsonl(tmp_path / "in.jsonl", _records_with_defects(games))
    local = tmp_path / "local.jsonl"
    _cli(str(source), str(local), "--rpc", "Mediate", "--chunk-size", "32")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    start = subprocess.run(
        [
            ray_cli,
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert start.returncode == 0, start.stdout + start.stderr
    try:
        out = tmp_path / "ray.jsonl"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mechsolve",
                "batch",
                str(source),
                str(out),
                "--rpc",
                "Mediate",
                "--chunk-size",
                "32",
                "--engine",
                "ray",
                "--address",
                f"127.0.0.1:{port}",
                "--no-progress",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        _assert_same_rows(_rows(local), _rows(out))
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, env=env, timeout=120)
        time.sleep(0.5)


def test_an_unreachable_server_commits_nothing_and_a_rerun_resumes(
    tmp_path: Path, server: RunningServer
) -> None:
    """Transport failures are not answers: with no server the run stops, names the cause and
    commits nothing; the same command against a live server then solves every record."""
    games = _games(tmp_path)
    source = _write_jsonl(tmp_path / "in.jsonl", _records(games, 40))
    out = tmp_path / "out.jsonl"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    down = _cli(str(source), str(out), "--rpc", "Mediate", "--address", dead, check=False)
    assert down.returncode == 1 and "rerun the same command" in down.stderr
    assert not out.exists()
    assert not list((tmp_path / "out.jsonl.parts").glob("part-*"))
    # the parts folder belongs to this command: the rerun (another address) resumes it
    _cli(str(source), str(out), "--rpc", "Mediate", "--address", server.address)
    rows = _rows(out)
    assert len(rows) == 40 and all(r["status"] == "OK" for r in rows)


def test_records_that_break_parsers_and_columns_do_not_break_the_run(tmp_path: Path) -> None:
    """A record nested 100,000 deep, integer and text ids, an id beyond int64 and results of
    two RPCs of different shapes in one Parquet output: each record gets its row."""
    games = _games(tmp_path)
    good = _records(games, 30)
    lines = [
        *good[:10],
        "[" * 100_000 + "]" * 100_000,
        {"id": 2**70, "rpc": "ExportNfg", "game_file": "a.npz"},
        *good[10:],
    ]
    source = _write_jsonl(tmp_path / "in.jsonl", lines)
    for name in ("out.parquet", "out.jsonl"):
        _cli(str(source), str(tmp_path / name), "--rpc", "Mediate", "--chunk-size", "7")
    parquet, jsonl = _rows(tmp_path / "out.parquet"), _rows(tmp_path / "out.jsonl")
    assert len(parquet) == len(jsonl) == len(lines)
    assert "nested too deeply" in jsonl[10]["error"]
    assert jsonl[11]["status"] == "OK" and jsonl[11]["result"].startswith("NFG 1 R")
    assert [str(r["id"]) for r in parquet] == [str(r["id"]) for r in jsonl]
    assert (
        json.loads(parquet[0]["result"])["welfare_function"]
        == jsonl[0]["result"]["welfare_function"]
    )


def test_a_second_run_on_the_same_output_and_a_foreign_output_are_refused(
    tmp_path: Path,
) -> None:
    from mechsolve.batch.parts import Parts

    games = _games(tmp_path)
    source = _write_jsonl(tmp_path / "in.jsonl", _records(games, 20))
    out = tmp_path / "out.jsonl"
    with Parts(out, "jsonl", {}).lock():  # another run holds the output
        busy = _cli(str(source), str(out), "--rpc", "Mediate", check=False)
    assert busy.returncode == 1 and "another mechsolve batch" in busy.stderr
    out.write_text("not ours\n")
    foreign = _cli(str(source), str(out), "--rpc", "Mediate", check=False)
    assert foreign.returncode == 1 and "was not written by this command" in foreign.stderr
    _cli(str(source), str(out), "--rpc", "Mediate", "--restart")
    assert len(_rows(out)) == 20
    again = _cli(str(source), str(out), "--rpc", "Mediate")
    assert "nothing to do" in again.stdout
