"""Game files: Gambit ``.nfg``, the project's JSON (:meth:`NormalFormGame.to_dict`) and NPZ
(arrays ``payoffs``, optionally ``players``, ``actions`` (one row per player, padded with
``""``) and ``title``) forms, read by suffix; and ``fixture:NAME`` for the named fixtures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits

from .nfg import read_nfg, write_nfg
from .normal_form import NormalFormGame, fixture

SUFFIXES = (".nfg", ".json", ".npz")


def read_game(
    spec: str | os.PathLike[str], *, limits: Limits | None = None, function: str = "read_game"
) -> NormalFormGame:
    """The game in a ``.nfg``, ``.json`` or ``.npz`` file, or the fixture ``fixture:NAME``.

    Raises:
        MechsolveInputError: (argument ``path``) a missing file, an unknown suffix, or a file
            that does not hold a game, with the reason.
    """
    text = os.fspath(spec)
    if text.startswith("fixture:"):
        return fixture(text.split(":", 1)[1])
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MechsolveInputError(
            function,
            "path",
            f"must end in {', '.join(SUFFIXES)} (or be fixture:NAME); got {text!r}",
        )
    if not path.is_file():
        raise MechsolveInputError(function, "path", f"must be an existing file; got {text!r}")
    if suffix == ".nfg":
        return read_nfg(path, limits=limits)
    if suffix == ".json":
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MechsolveInputError(function, "path", f"is not valid JSON ({exc})") from exc
        return NormalFormGame.from_dict(data)
    return _read_npz(path, function)


def _read_npz(path: Path, function: str) -> NormalFormGame:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError) as exc:
        raise MechsolveInputError(function, "path", f"is not a readable .npz ({exc})") from exc
    if "payoffs" not in arrays:
        raise MechsolveInputError(
            function, "path", f"has no array 'payoffs' (it has {sorted(arrays)})"
        )
    data: dict[str, object] = {"payoffs": arrays["payoffs"]}
    if "players" in arrays:
        data["players"] = [str(p) for p in arrays["players"].tolist()]
    if "actions" in arrays:
        data["actions"] = [[str(a) for a in row if str(a)] for row in arrays["actions"].tolist()]
    if "title" in arrays:
        data["title"] = str(arrays["title"])
    return NormalFormGame.from_dict(data)


def write_game(game: NormalFormGame, path: str | os.PathLike[str]) -> Path:
    """Write ``game`` in the form its suffix names (``.nfg``, ``.json`` or ``.npz``)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".nfg":
        write_nfg(game, p)
    elif suffix == ".json":
        p.write_text(json.dumps(game.to_dict()))
    elif suffix == ".npz":
        width = max(len(a) for a in game.actions)
        actions = np.array([list(a) + [""] * (width - len(a)) for a in game.actions], dtype=str)
        np.savez(
            p,
            payoffs=game.payoffs,
            players=np.array(game.players, dtype=str),
            actions=actions,
            title=np.array(game.title),
        )
    else:
        raise MechsolveInputError(
            "write_game", "path", f"must end in {', '.join(SUFFIXES)}; got {str(p)!r}"
        )
    return p
