"""``mechsolve equilibrium KIND GAME``: every kind runs on the fixtures in-process, prints the
result (as JSON with --json), and gives the same answer through a live server."""

from __future__ import annotations

import json

import pytest

from mechsolve.batch import same_answer
from mechsolve.cli import main
from mechsolve.server.app import RunningServer

COMMANDS = {
    "correlated": ["correlated", "fixture:chicken", "--kind", "cce", "--welfare", "egalitarian"],
    "nash": ["nash", "fixture:battle_of_the_sexes", "--worst"],
    "nash-value": ["nash", "fixture:chicken", "--player", "1", "--at-least", "3.4"],
    "minimax": ["minimax", "fixture:asymmetric_bos"],
    "stackelberg": ["stackelberg", "fixture:asymmetric_bos", "--leader", "1"],
    "sequential": ["stackelberg", "fixture:chicken", "--order", "1", "0"],
    "leader": ["leader", "fixture:asymmetric_bos", "--welfare", "nash"],
    "welfare": ["welfare", "fixture:asymmetric_bos", "--welfare", "egalitarian", "--lottery"],
    "score": [
        "score", "fixture:asymmetric_bos", "--utilities", "3", "1.5",
        "--disagreement-utilities", "0", "0", "--welfare-functions", "utilitarian", "nash",
    ],
}  # fmt: skip


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict:
    assert main(["equilibrium", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_kind_runs_and_equals_the_server(
    name: str, capsys: pytest.CaptureFixture[str], server: RunningServer
) -> None:
    args = COMMANDS[name]
    assert main(["equilibrium", *args]) == 0
    text = capsys.readouterr().out
    assert "termination: optimal" in text
    local = _json(capsys, args)
    remote = _json(capsys, [*args, "--address", server.address])
    assert same_answer({"result": local}, {"result": remote}), (local, remote)


def test_known_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert _json(capsys, COMMANDS["nash"])["utilities"] == pytest.approx([1.2, 1.2])
    assert _json(capsys, COMMANDS["nash-value"])["utilities"] == pytest.approx([2.0, 3.5])
    assert _json(capsys, COMMANDS["stackelberg"])["utilities"] == pytest.approx([2.0, 2.0])
    assert _json(capsys, COMMANDS["sequential"])["actions"] == [0, 1]
    assert _json(capsys, COMMANDS["leader"])["welfare"] == pytest.approx(4.5)
    assert _json(capsys, COMMANDS["score"])["scores"] == pytest.approx([0.9, 1.0], rel=1e-6)


def test_a_bad_game_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["equilibrium", "nash", "fixture:nope"]) == 2
    assert "fixture" in capsys.readouterr().err
