"""Normal-form games and the named fixtures of SPEC section 1.

Payoffs are one float64 array of shape ``(n_players, k_1, ..., k_n)`` (the OpenSpiel Python
convention): ``payoffs[i, a_1, ..., a_n]`` is player i's utility at the joint action ``a``, and
player i's action is axis ``i + 1``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve


@dataclass(frozen=True, eq=False)
class NormalFormGame:
    """A finite normal-form game with read-only float64 payoffs.

    Attributes:
        payoffs: shape ``(n, k_1, ..., k_n)``, finite, ``n >= 1`` and every ``k_i >= 1``.
        players: one label per player (default ``"Player 1"`` ...).
        actions: per player, one label per action (default ``"1"``, ``"2"`` ...).
        title: a free-text title (Gambit's game title).
    """

    payoffs: NDArray[np.float64]
    players: tuple[str, ...] = field(default=())
    actions: tuple[tuple[str, ...], ...] = field(default=())
    title: str = ""
    _ks: tuple[int, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        p = _validated_payoffs("NormalFormGame", "payoffs", self.payoffs, None)
        p = p.copy()
        p.setflags(write=False)
        object.__setattr__(self, "payoffs", p)
        n, ks = p.shape[0], p.shape[1:]
        players = _label_tuple("players", self.players) or tuple(
            f"Player {i + 1}" for i in range(n)
        )
        if len(players) != n or not all(isinstance(s, str) for s in players):
            raise MechsolveInputError(
                "NormalFormGame", "players", f"must be {n} strings; got {self.players!r}"
            )
        actions = tuple(
            _label_tuple(f"actions[{i}]", a)
            for i, a in enumerate(_label_tuple("actions", self.actions))
        ) or tuple(tuple(str(j + 1) for j in range(k)) for k in ks)
        if len(actions) != n:
            raise MechsolveInputError(
                "NormalFormGame",
                "actions",
                f"must have one label list per player ({n}); got {len(actions)}",
            )
        for i, (labels, k) in enumerate(zip(actions, ks, strict=True)):
            if len(labels) != k or not all(isinstance(s, str) for s in labels):
                raise MechsolveInputError(
                    "NormalFormGame", f"actions[{i}]", f"must be {k} strings; got {labels!r}"
                )
        object.__setattr__(self, "players", players)
        object.__setattr__(self, "actions", actions)
        object.__setattr__(self, "_ks", tuple(int(k) for k in ks))
        if not isinstance(self.title, str):
            raise MechsolveInputError(
                "NormalFormGame", "title", f"must be a string; got {self.title!r}"
            )

    # -- shape -----------------------------------------------------------------------------
    @property
    def n_players(self) -> int:
        return int(self.payoffs.shape[0])

    @property
    def num_actions(self) -> tuple[int, ...]:
        """``(k_1, ..., k_n)``."""
        return self._ks

    @property
    def n_outcomes(self) -> int:
        return math.prod(self._ks)

    def utilities(self, actions: Sequence[int] | NDArray[np.int64]) -> NDArray[np.float64]:
        """Every player's utility at one joint action (validated)."""
        a = self.check_actions("utilities", actions)
        return np.array(self.payoffs[(slice(None), *a.tolist())], dtype=np.float64)

    def check_actions(
        self, function: str, actions: Any, argument: str = "actions"
    ) -> NDArray[np.int64]:
        """Validate one joint action: ``n`` integers with ``0 <= a_i < k_i``."""
        return v.int_array(
            function,
            argument,
            actions,
            shape=(self.n_players,),
            low=0,
            high=np.asarray(self.num_actions, dtype=np.int64),
        )

    def check_size(self, function: str, limits: Limits | None) -> None:
        """Raise ProblemTooLargeError when the game exceeds ``limits``."""
        _check_game_size(function, "game", self.payoffs.shape, resolve(limits))

    # -- conversions -----------------------------------------------------------------------
    def to_openspiel(self) -> list[NDArray[np.float64]]:
        """Per-player payoff tensors, as ``pyspiel.create_tensor_game`` takes them."""
        return [np.array(self.payoffs[i]) for i in range(self.n_players)]

    @classmethod
    def from_openspiel(cls, tensors: Sequence[Any], **labels: Any) -> NormalFormGame:
        """From a list of per-player tensors of identical shape ``(k_1, ..., k_n)``."""
        try:
            arrays = [np.asarray(t, dtype=np.float64) for t in tensors]
        except (TypeError, ValueError) as exc:
            raise MechsolveInputError(
                "NormalFormGame.from_openspiel", "tensors", "must be a list of numeric arrays"
            ) from exc
        if not arrays:
            raise MechsolveInputError(
                "NormalFormGame.from_openspiel", "tensors", "must not be empty; got []"
            )
        n = len(arrays)
        for i, a in enumerate(arrays):
            if a.ndim != n:
                raise MechsolveInputError(
                    "NormalFormGame.from_openspiel",
                    f"tensors[{i}]",
                    f"must have {n} dimensions (one per player); got shape {a.shape}",
                )
            if a.shape != arrays[0].shape:
                raise MechsolveInputError(
                    "NormalFormGame.from_openspiel",
                    f"tensors[{i}]",
                    f"must have shape {arrays[0].shape} like tensors[0]; got {a.shape}",
                )
        return cls(np.stack(arrays), **labels)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"payoffs": nested lists, "players", "actions", "title"}``."""
        return {
            "payoffs": self.payoffs.tolist(),
            "players": list(self.players),
            "actions": [list(a) for a in self.actions],
            "title": self.title,
        }

    @classmethod
    def from_dict(cls, data: Any) -> NormalFormGame:
        """From :meth:`to_dict`'s format (``payoffs`` required, the rest optional)."""
        fn = "NormalFormGame.from_dict"
        if not isinstance(data, dict):
            raise MechsolveInputError(
                fn, "data", f"must be a JSON object; got {type(data).__name__}"
            )
        unknown = set(data) - {"payoffs", "players", "actions", "title"}
        if unknown:
            raise MechsolveInputError(fn, "data", f"has unknown keys {sorted(unknown)}")
        if "payoffs" not in data:
            raise MechsolveInputError(fn, "payoffs", "is required")
        try:
            payoffs = np.asarray(data["payoffs"], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise MechsolveInputError(
                fn, "payoffs", "must be a nested list of numbers of shape (n, k_1, ..., k_n)"
            ) from exc
        return cls(
            payoffs,
            players=data.get("players") or (),
            actions=data.get("actions") or (),
            title=data.get("title", ""),
        )

    def __repr__(self) -> str:
        title = f" {self.title!r}" if self.title else ""
        return f"NormalFormGame({self.n_players} players, actions {self.num_actions}{title})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NormalFormGame):
            return NotImplemented
        return (
            self.payoffs.shape == other.payoffs.shape
            and bool(np.array_equal(self.payoffs, other.payoffs))
            and self.players == other.players
            and self.actions == other.actions
            and self.title == other.title
        )

    __hash__ = None  # type: ignore[assignment]


def _label_tuple(argument: str, value: Any) -> tuple[Any, ...]:
    """Labels as a tuple (``None`` = defaults); a bare string is not split into characters."""
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise MechsolveInputError(
            "NormalFormGame", argument, f"must be a sequence of labels; got {value!r}"
        )
    return tuple(value)


def _validated_payoffs(
    function: str, argument: str, payoffs: Any, limits: Limits | None
) -> NDArray[np.float64]:
    p = v.float_array(function, argument, payoffs, allow_empty=True)
    if p.ndim < 2:
        raise MechsolveInputError(
            function, argument, f"must have shape (n_players, k_1, ..., k_n); got shape {p.shape}"
        )
    if 0 in p.shape:
        raise MechsolveInputError(
            function,
            argument,
            f"must have at least one player and one action each; got shape {p.shape}",
        )
    n = p.shape[0]
    if p.ndim != n + 1:
        raise MechsolveInputError(
            function,
            argument,
            f"must have shape (n_players, k_1, ..., k_n) with one axis per player: "
            f"{n} players need {n + 1} dimensions; got shape {p.shape}",
        )
    if limits is not None:
        _check_game_size(function, argument, p.shape, limits)
    return p


def _check_game_size(function: str, argument: str, shape: tuple[int, ...], limits: Limits) -> None:
    limits.check(function, f"{argument} players", int(shape[0]), "max_players")
    limits.check(
        function, f"{argument} outcomes", math.prod(int(k) for k in shape[1:]), "max_outcomes"
    )


def as_game(function: str, game: Any, limits: Limits | None = None) -> NormalFormGame:
    """A NormalFormGame from a game or a payoff array, checked against ``limits``."""
    if isinstance(game, NormalFormGame):
        g = game
    else:
        g = NormalFormGame(_validated_payoffs(function, "game", game, None))
    g.check_size(function, limits)
    return g


# -- named fixtures ------------------------------------------------------------------------


def _two_by_two(
    title: str, cells: dict[tuple[int, int], tuple[float, float]], acts: Sequence[str]
) -> NormalFormGame:
    p = np.zeros((2, 2, 2))
    for (a, b), (u1, u2) in cells.items():
        p[0, a, b], p[1, a, b] = u1, u2
    return NormalFormGame(p, actions=(tuple(acts), tuple(acts)), title=title)


def greed_fear_game(greed: float, fear: float, title: str = "") -> NormalFormGame:
    """Seed 001 Table 4.1: R=3, P=1, T=R+greed, S=P-fear; actions (C, D).

    u(C,C)=(R,R), u(C,D)=(S,T), u(D,C)=(T,S), u(D,D)=(P,P).
    """
    r, pun = 3.0, 1.0
    t, s = (
        r + v.real("greed_fear_game", "greed", greed),
        pun - v.real("greed_fear_game", "fear", fear),
    )
    return _two_by_two(
        title or f"greed={greed}, fear={fear}",
        {(0, 0): (r, r), (0, 1): (s, t), (1, 0): (t, s), (1, 1): (pun, pun)},
        ("C", "D"),
    )


def prisoners_dilemma() -> NormalFormGame:
    """Seed 001 Table 4.1, greed = fear = 1: (C,C)=(3,3), (C,D)=(0,4), (D,C)=(4,0), (D,D)=(1,1)."""
    return greed_fear_game(1.0, 1.0, "Prisoner's Dilemma")


def chicken() -> NormalFormGame:
    """Seed 001 Table 4.1, greed = 0.5, fear = -1: T = 3.5, S = 2.

    (C,C)=(3,3), (C,D)=(2,3.5), (D,C)=(3.5,2), (D,D)=(1,1).
    """
    return greed_fear_game(0.5, -1.0, "Chicken")


def stag_hunt() -> NormalFormGame:
    """Seed 001 Table 4.1, greed = -1, fear = 1: (C,C)=(3,3), (C,D)=(0,2), (D,C)=(2,0), (D,D)=(1,1)."""
    return greed_fear_game(-1.0, 1.0, "Stag Hunt")


def seed000_prisoners_dilemma() -> NormalFormGame:
    """Seed 000 Table 1: (C,C)=(2,2), (C,D)=(0,3), (D,C)=(3,0), (D,D)=(1,1)."""
    return _two_by_two(
        "Prisoner's Dilemma (seed 000 Table 1)",
        {(0, 0): (2, 2), (0, 1): (0, 3), (1, 0): (3, 0), (1, 1): (1, 1)},
        ("C", "D"),
    )


def battle_of_the_sexes() -> NormalFormGame:
    """Symmetric Bach or Stravinsky (seed 003 Figure 2, middle): (A,A)=(3,2), (B,B)=(2,3), else 0."""
    return _two_by_two(
        "Battle of the Sexes",
        {(0, 0): (3, 2), (0, 1): (0, 0), (1, 0): (0, 0), (1, 1): (2, 3)},
        ("A", "B"),
    )


def asymmetric_bos() -> NormalFormGame:
    """Seed 003 asymmetric BoS [[(4,1),(0,0)],[(0,0),(2,2)]]."""
    return _two_by_two(
        "Asymmetric Battle of the Sexes",
        {(0, 0): (4, 1), (0, 1): (0, 0), (1, 0): (0, 0), (1, 1): (2, 2)},
        ("A", "B"),
    )


def public_goods_game(n_players: int, multiplier: float = 2.0) -> NormalFormGame:
    """Binary public goods game (seed 004): a_i in {0 keep, 1 contribute}.

    ``r_i = (-a_i + (k/N) * sum_j a_j) / (k - 1)``, with ``1 < k < N`` making it a social dilemma.
    """
    fn = "public_goods_game"
    n = v.positive_int(fn, "n_players", n_players)
    k = v.real(fn, "multiplier", multiplier)
    if k == 1.0:
        raise MechsolveInputError(
            fn, "multiplier", "must differ from 1 (the reward divides by k - 1); got 1.0"
        )
    resolve(None).check(fn, "n_players", n, "max_players")
    _check_game_size(fn, "n_players", (n, *([2] * n)), resolve(None))
    grids = np.indices((2,) * n, dtype=np.float64)  # (n, 2, ..., 2): grids[i] = a_i
    total = grids.sum(axis=0)
    payoffs = (-grids + (k / n) * total[None]) / (k - 1.0)
    acts = tuple(("keep", "contribute") for _ in range(n))
    return NormalFormGame(payoffs, actions=acts, title=f"Public Goods Game (N={n}, k={k:g})")


def random_game(
    num_actions: Sequence[int], seed: int | np.random.Generator | None = None
) -> NormalFormGame:
    """Payoffs drawn i.i.d. from U[0, 1) (seed 000 section 4.1), shape ``(n, *num_actions)``."""
    fn = "random_game"
    ks = v.int_array(fn, "num_actions", num_actions, ndim=1, low=1)
    _check_game_size(fn, "num_actions", (len(ks), *ks.tolist()), resolve(None))
    gen = v.rng(fn, seed)
    return NormalFormGame(gen.random((len(ks), *ks.tolist())), title="random U[0,1)")


FIXTURES = {
    "prisoners_dilemma": prisoners_dilemma,
    "stag_hunt": stag_hunt,
    "chicken": chicken,
    "seed000_prisoners_dilemma": seed000_prisoners_dilemma,
    "battle_of_the_sexes": battle_of_the_sexes,
    "asymmetric_bos": asymmetric_bos,
}


def fixture(name: str) -> NormalFormGame:
    """A named 2x2 fixture game (see :data:`FIXTURES`)."""
    make = FIXTURES.get(name)
    if make is None:
        v.choice("fixture", "name", name, sorted(FIXTURES))
        raise AssertionError("unreachable")
    return make()
