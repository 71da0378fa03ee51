"""NormalFormGame validation, the named fixtures, conversions and size limits
(mechsolve.solver.games.normal_form)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import DEFAULT_LIMITS, Limits
from mechsolve.solver.games.normal_form import (
    FIXTURES,
    NormalFormGame,
    as_game,
    asymmetric_bos,
    battle_of_the_sexes,
    chicken,
    fixture,
    greed_fear_game,
    prisoners_dilemma,
    public_goods_game,
    random_game,
    seed000_prisoners_dilemma,
    stag_hunt,
)


def exact(text: str) -> str:
    """A regex matching exactly ``text``."""
    return "^" + re.escape(text) + "$"


def cells(game: NormalFormGame) -> dict[tuple[int, ...], tuple[float, ...]]:
    """Every joint action's payoff vector, read one entry at a time."""
    return {
        a: tuple(float(game.payoffs[(i, *a)]) for i in range(game.n_players))
        for a in itertools.product(*(range(k) for k in game.num_actions))
    }


Z = np.zeros((2, 2, 3))

# -- validation ----------------------------------------------------------------------------------

BAD_GAMES = [
    pytest.param(
        lambda: NormalFormGame(np.where(np.arange(12).reshape(2, 2, 3) == 4, np.nan, 0.0)),
        "NormalFormGame(): `payoffs[0][1][1]` must be finite; got nan",
        id="nan",
    ),
    pytest.param(
        lambda: NormalFormGame([[[0, np.inf]], [[0, 0]]]),
        "NormalFormGame(): `payoffs[0][0][1]` must be finite; got inf",
        id="inf",
    ),
    pytest.param(
        lambda: NormalFormGame([[-np.inf]]),
        "NormalFormGame(): `payoffs[0][0]` must be finite; got -inf",
        id="minus-inf",
    ),
    pytest.param(
        lambda: NormalFormGame(3.0),
        "NormalFormGame(): `payoffs` must have shape (n_players, k_1, ..., k_n); got shape ()",
        id="scalar",
    ),
    pytest.param(
        lambda: NormalFormGame([1.0, 2.0]),
        "NormalFormGame(): `payoffs` must have shape (n_players, k_1, ..., k_n); got shape (2,)",
        id="vector",
    ),
    pytest.param(
        lambda: NormalFormGame(np.zeros((2, 3))),
        "NormalFormGame(): `payoffs` must have shape (n_players, k_1, ..., k_n) with one axis "
        "per player: 2 players need 3 dimensions; got shape (2, 3)",
        id="one-axis-missing",
    ),
    pytest.param(
        lambda: NormalFormGame(np.zeros((3, 2, 2))),
        "NormalFormGame(): `payoffs` must have shape (n_players, k_1, ..., k_n) with one axis "
        "per player: 3 players need 4 dimensions; got shape (3, 2, 2)",
        id="player-count-mismatch",
    ),
    pytest.param(
        lambda: NormalFormGame(np.zeros((0,))),
        "NormalFormGame(): `payoffs` must have shape (n_players, k_1, ..., k_n); got shape (0,)",
        id="empty",
    ),
    pytest.param(
        lambda: NormalFormGame(np.zeros((0, 2))),
        "NormalFormGame(): `payoffs` must have at least one player and one action each; "
        "got shape (0, 2)",
        id="no-players",
    ),
    pytest.param(
        lambda: NormalFormGame(np.zeros((2, 2, 0))),
        "NormalFormGame(): `payoffs` must have at least one player and one action each; "
        "got shape (2, 2, 0)",
        id="no-actions",
    ),
    pytest.param(
        lambda: NormalFormGame([[[1, 2]], [[1]]]),
        "NormalFormGame(): `payoffs` must be an array of real numbers; got [[[1, 2]], [[1]]]",
        id="ragged",
    ),
    pytest.param(
        lambda: NormalFormGame([["a"]]),
        "NormalFormGame(): `payoffs` must be an array of real numbers; got [['a']] (strings)",
        id="strings",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, players=("A",)),
        "NormalFormGame(): `players` must be 2 strings; got ('A',)",
        id="too-few-players",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, players=("A", "B", "C")),
        "NormalFormGame(): `players` must be 2 strings; got ('A', 'B', 'C')",
        id="too-many-players",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, players=("A", 2)),
        "NormalFormGame(): `players` must be 2 strings; got ('A', 2)",
        id="player-not-a-string",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, players="AB"),
        "NormalFormGame(): `players` must be a sequence of labels; got 'AB'",
        id="players-one-string",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, players=5),
        "NormalFormGame(): `players` must be a sequence of labels; got 5",
        id="players-not-iterable",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, actions=(("a", "b"),)),
        "NormalFormGame(): `actions` must have one label list per player (2); got 1",
        id="too-few-label-lists",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, actions=(("a", "b"), ("x", "y"))),
        "NormalFormGame(): `actions[1]` must be 3 strings; got ('x', 'y')",
        id="wrong-label-count",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, actions=(("a", 1), ("x", "y", "z"))),
        "NormalFormGame(): `actions[0]` must be 2 strings; got ('a', 1)",
        id="label-not-a-string",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, actions=("ab", "xyz")),
        "NormalFormGame(): `actions[0]` must be a sequence of labels; got 'ab'",
        id="label-list-one-string",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, actions=3),
        "NormalFormGame(): `actions` must be a sequence of labels; got 3",
        id="actions-not-iterable",
    ),
    pytest.param(
        lambda: NormalFormGame(Z, title=3),
        "NormalFormGame(): `title` must be a string; got 3",
        id="title-not-a-string",
    ),
    pytest.param(
        lambda: as_game("pareto_mediator", [[np.nan]]),
        "pareto_mediator(): `game[0][0]` must be finite; got nan",
        id="as-game-nan",
    ),
    pytest.param(
        lambda: as_game("pareto_mediator", np.zeros((2, 2))),
        "pareto_mediator(): `game` must have shape (n_players, k_1, ..., k_n) with one axis per "
        "player: 2 players need 3 dimensions; got shape (2, 2)",
        id="as-game-shape",
    ),
]


@pytest.mark.parametrize(("make", "message"), BAD_GAMES)
def test_invalid_games_are_rejected(make: Callable[[], object], message: str) -> None:
    with pytest.raises(MechsolveInputError, match=exact(message)):
        make()


def test_error_attributes_name_function_and_argument() -> None:
    with pytest.raises(MechsolveInputError) as info:
        NormalFormGame(Z, actions=(("a", "b"), ("x", "y")))
    assert (info.value.function, info.value.argument) == ("NormalFormGame", "actions[1]")
    assert isinstance(info.value, ValueError)


def test_defaults_and_properties() -> None:
    game = NormalFormGame(np.arange(12).reshape(2, 2, 3))
    assert game.payoffs.dtype == np.float64
    assert game.players == ("Player 1", "Player 2")
    assert game.actions == (("1", "2"), ("1", "2", "3"))
    assert game.title == ""
    assert (game.n_players, game.num_actions, game.n_outcomes) == (2, (2, 3), 6)
    assert repr(game) == "NormalFormGame(2 players, actions (2, 3))"
    assert NormalFormGame(Z, players=None, actions=None) == NormalFormGame(Z)


def test_labels_accept_any_sequence() -> None:
    game = NormalFormGame(Z, players=["A", "B"], actions=[["a", "b"], iter("xyz")])
    assert game.players == ("A", "B")
    assert game.actions == (("a", "b"), ("x", "y", "z"))


def test_payoffs_are_a_read_only_copy() -> None:
    source = np.ones((1, 2))
    game = NormalFormGame(source)
    source[0, 0] = 5.0
    assert game.payoffs[0, 0] == 1.0
    assert not game.payoffs.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        game.payoffs[0, 0] = 2.0


def test_equality_and_hashing() -> None:
    a = NormalFormGame(Z, title="t")
    assert a == NormalFormGame(Z.copy(), title="t")
    assert a != NormalFormGame(Z, title="u")
    assert a != NormalFormGame(Z, players=("x", "y"), title="t")
    assert a != NormalFormGame(Z + 1, title="t")
    assert a != NormalFormGame(np.zeros((2, 3, 2)), title="t")
    assert a != "not a game"
    with pytest.raises(TypeError):
        hash(a)


# -- utilities -----------------------------------------------------------------------------------


def test_utilities_reads_every_players_payoff() -> None:
    game = random_game([2, 3, 4], seed=7)
    for a in itertools.product(range(2), range(3), range(4)):
        u = game.utilities(a)
        assert u.shape == (3,)
        assert u.tolist() == [game.payoffs[(i, *a)] for i in range(3)]
    assert game.utilities(np.array([1, 2, 3])).tolist() == list(cells(game)[(1, 2, 3)])


def test_utilities_returns_a_writable_copy() -> None:
    game = seed000_prisoners_dilemma()
    u = game.utilities([0, 1])
    u[0] = 99.0
    assert game.utilities([0, 1]).tolist() == [0.0, 3.0]


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ([1, 3], "utilities(): `actions[1]` must be in [0, 3); got 3"),
        ([-1, 0], "utilities(): `actions[0]` must be in [0, 2); got -1"),
        ([1], "utilities(): `actions` must have shape (2,); got (1,)"),
        ([0.5, 0], "utilities(): `actions[0]` must be an integer; got 0.5"),
        ([True, False], "utilities(): `actions` must be an array of integers; got dtype bool"),
        (["a", "b"], "utilities(): `actions` must be an array of integers; got dtype <U1"),
    ],
)
def test_utilities_rejects_bad_actions(actions: list[object], message: str) -> None:
    with pytest.raises(MechsolveInputError, match=exact(message)):
        NormalFormGame(Z).utilities(actions)


# -- fixtures ------------------------------------------------------------------------------------

C, D = 0, 1


@pytest.mark.parametrize(
    ("make", "temptation", "sucker"),
    [
        pytest.param(prisoners_dilemma, 4.0, 0.0, id="prisoners-dilemma"),
        pytest.param(chicken, 3.5, 2.0, id="chicken"),
        pytest.param(stag_hunt, 2.0, 0.0, id="stag-hunt"),
    ],
)
def test_greed_fear_fixtures(
    make: Callable[[], NormalFormGame], temptation: float, sucker: float
) -> None:
    """Seed 001 Table 4.1: R = 3, P = 1, T = R + greed, S = P - fear."""
    game = make()
    assert cells(game) == {
        (C, C): (3.0, 3.0),
        (C, D): (sucker, temptation),
        (D, C): (temptation, sucker),
        (D, D): (1.0, 1.0),
    }
    assert game.actions == (("C", "D"), ("C", "D"))
    np.testing.assert_array_equal(game.payoffs[1], game.payoffs[0].T)  # symmetric game


@pytest.mark.parametrize(
    ("greed", "fear", "temptation", "sucker"),
    [(1.0, 1.0, 4.0, 0.0), (0.5, -1.0, 3.5, 2.0), (-1.0, 1.0, 2.0, 0.0), (0.0, 0.0, 3.0, 1.0)],
)
def test_greed_fear_game_formula(
    greed: float, fear: float, temptation: float, sucker: float
) -> None:
    game = greed_fear_game(greed, fear)
    assert cells(game)[(D, C)] == (temptation, sucker)
    assert cells(game)[(C, D)] == (sucker, temptation)
    assert game.title == f"greed={greed}, fear={fear}"


def test_greed_fear_game_rejects_bad_parameters() -> None:
    with pytest.raises(
        MechsolveInputError, match=exact("greed_fear_game(): `greed` must be finite; got inf")
    ):
        greed_fear_game(float("inf"), 1.0)
    with pytest.raises(
        MechsolveInputError,
        match=exact("greed_fear_game(): `fear` must be a real number; got 'x'"),
    ):
        greed_fear_game(1.0, "x")


def test_seed000_prisoners_dilemma_table_1() -> None:
    assert cells(seed000_prisoners_dilemma()) == {
        (C, C): (2.0, 2.0),
        (C, D): (0.0, 3.0),
        (D, C): (3.0, 0.0),
        (D, D): (1.0, 1.0),
    }


def test_battle_of_the_sexes() -> None:
    assert cells(battle_of_the_sexes()) == {
        (0, 0): (3.0, 2.0),
        (0, 1): (0.0, 0.0),
        (1, 0): (0.0, 0.0),
        (1, 1): (2.0, 3.0),
    }


def test_asymmetric_battle_of_the_sexes() -> None:
    np.testing.assert_array_equal(
        np.moveaxis(asymmetric_bos().payoffs, 0, -1),
        [[(4, 1), (0, 0)], [(0, 0), (2, 2)]],
    )


def test_fixture_registry() -> None:
    for name, make in FIXTURES.items():
        assert fixture(name) == make()
    with pytest.raises(
        MechsolveInputError,
        match=exact(
            "fixture(): `name` must be one of 'asymmetric_bos', 'battle_of_the_sexes', "
            "'chicken', 'prisoners_dilemma', 'seed000_prisoners_dilemma', 'stag_hunt'; got 'pd'"
        ),
    ):
        fixture("pd")


def public_goods_plain(n: int, k: float) -> np.ndarray:
    """r_i = (-a_i + (k/N) sum_j a_j) / (k - 1), one profile and player at a time."""
    payoffs = np.zeros((n, *([2] * n)))
    for a in itertools.product((0, 1), repeat=n):
        total = sum(a)
        for i in range(n):
            payoffs[(i, *a)] = (-a[i] + (k / n) * total) / (k - 1)
    return payoffs


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("k", [0.5, 1.5, 2.0, 3.0])
def test_public_goods_game_matches_plain_loop(n: int, k: float) -> None:
    game = public_goods_game(n, k)
    np.testing.assert_allclose(game.payoffs, public_goods_plain(n, k), rtol=1e-14, atol=1e-14)
    assert game.actions == (("keep", "contribute"),) * n
    assert game.title == f"Public Goods Game (N={n}, k={k:g})"


def test_public_goods_game_is_a_social_dilemma_when_1_lt_k_lt_n() -> None:
    n, k = 4, 2.0
    game = public_goods_game(n, k)
    for a in itertools.product((0, 1), repeat=n):
        for i in range(n):
            keep, give = list(a), list(a)
            keep[i], give[i] = 0, 1
            # contributing costs (1 - k/N)/(k - 1) whatever the others do ...
            gap = game.payoffs[(i, *keep)] - game.payoffs[(i, *give)]
            assert gap == pytest.approx((1 - k / n) / (k - 1))
    # ... yet everyone contributing beats nobody contributing
    assert (game.payoffs[(slice(None), *[1] * n)] > game.payoffs[(slice(None), *[0] * n)]).all()


def test_public_goods_game_rejects_bad_parameters() -> None:
    with pytest.raises(
        MechsolveInputError,
        match=exact(
            "public_goods_game(): `multiplier` must differ from 1 (the reward divides by k - 1); "
            "got 1.0"
        ),
    ):
        public_goods_game(3, 1)
    with pytest.raises(
        MechsolveInputError,
        match=exact("public_goods_game(): `n_players` must be an integer >= 1; got 0"),
    ):
        public_goods_game(0)
    with pytest.raises(
        MechsolveInputError,
        match=exact("public_goods_game(): `multiplier` must be finite; got nan"),
    ):
        public_goods_game(3, float("nan"))
    with pytest.raises(
        ProblemTooLargeError,
        match=exact("public_goods_game(): `n_players` has size 17, over the limit max_players=16"),
    ):
        public_goods_game(17)


def test_random_game_is_seeded_and_uniform() -> None:
    a = random_game([2, 3, 4], seed=12345)
    assert a == random_game([2, 3, 4], seed=12345)
    assert a == random_game([2, 3, 4], seed=np.random.default_rng(12345))
    assert a != random_game([2, 3, 4], seed=12346)
    np.testing.assert_array_equal(a.payoffs, np.random.default_rng(12345).random((3, 2, 3, 4)))
    big = random_game([50, 40], seed=0).payoffs
    assert big.shape == (2, 50, 40)
    assert big.min() >= 0.0
    assert big.max() < 1.0
    assert abs(big.mean() - 0.5) < 0.02  # 4000 draws: sd of the mean is about 0.005


def test_random_game_generator_advances() -> None:
    gen = np.random.default_rng(3)
    first, second = random_game([2, 2], seed=gen), random_game([2, 2], seed=gen)
    assert first != second


@settings(max_examples=30, deadline=None)
@given(
    ks=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    seed=st.integers(0, 2**63 - 1),
)
def test_random_game_shape_and_range(ks: list[int], seed: int) -> None:
    game = random_game(ks, seed=seed)
    assert game.payoffs.shape == (len(ks), *ks)
    assert ((game.payoffs >= 0.0) & (game.payoffs < 1.0)).all()


@pytest.mark.parametrize(
    ("num_actions", "seed", "error", "message"),
    [
        (
            [2, 0],
            0,
            MechsolveInputError,
            "random_game(): `num_actions[1]` must be in [1, inf); got 0",
        ),
        (
            [],
            0,
            MechsolveInputError,
            "random_game(): `num_actions` must not be empty; got shape (0,)",
        ),
        (
            [2],
            -1,
            MechsolveInputError,
            "random_game(): `seed` must be a non-negative integer or numpy Generator; got -1",
        ),
        (
            [2],
            1.5,
            MechsolveInputError,
            "random_game(): `seed` must be a non-negative integer or numpy Generator; got 1.5",
        ),
        (
            [1] * 17,
            0,
            ProblemTooLargeError,
            "random_game(): `num_actions players` has size 17, over the limit max_players=16",
        ),
        (
            # 2**64 outcomes: the count must not wrap around to 0 in int64
            [2**32, 2**32],
            0,
            ProblemTooLargeError,
            "random_game(): `num_actions outcomes` has size 18446744073709551616, over the "
            "limit max_outcomes=16777216",
        ),
    ],
)
def test_random_game_rejects_bad_input(
    num_actions: list[int], seed: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=exact(message)):
        random_game(num_actions, seed=seed)


# -- OpenSpiel conversion ------------------------------------------------------------------------


def test_openspiel_round_trip() -> None:
    game = NormalFormGame(
        random_game([2, 3, 2], seed=5).payoffs,
        players=("a", "b", "c"),
        actions=(("x", "y"), ("p", "q", "r"), ("s", "t")),
        title="three",
    )
    tensors = game.to_openspiel()
    assert len(tensors) == 3
    for i, t in enumerate(tensors):
        assert t.shape == (2, 3, 2)
        np.testing.assert_array_equal(t, game.payoffs[i])
    back = NormalFormGame.from_openspiel(
        tensors, players=game.players, actions=game.actions, title=game.title
    )
    assert back == game
    assert NormalFormGame.from_openspiel(tensors) == NormalFormGame(game.payoffs)


def test_openspiel_tensors_are_independent_copies() -> None:
    game = seed000_prisoners_dilemma()
    tensors = game.to_openspiel()
    tensors[0][0, 0] = 100.0
    assert game.payoffs[0, 0, 0] == 2.0


def test_openspiel_matrix_game_convention() -> None:
    """OpenSpiel's matrix games take (row player, column player) matrices."""
    row = [[2, 0], [3, 1]]
    col = [[2, 3], [0, 1]]
    assert NormalFormGame.from_openspiel([row, col]).payoffs.tolist() == (
        seed000_prisoners_dilemma().payoffs.tolist()
    )


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        ([], "NormalFormGame.from_openspiel(): `tensors` must not be empty; got []"),
        (
            [np.zeros((2, 2)), np.zeros(2)],
            "NormalFormGame.from_openspiel(): `tensors[1]` must have 2 dimensions (one per "
            "player); got shape (2,)",
        ),
        (
            [np.zeros((2, 2)), np.zeros((2, 3))],
            "NormalFormGame.from_openspiel(): `tensors[1]` must have shape (2, 2) like "
            "tensors[0]; got (2, 3)",
        ),
        (
            [[[1, 2], [3]]],
            "NormalFormGame.from_openspiel(): `tensors` must be a list of numeric arrays",
        ),
        (5, "NormalFormGame.from_openspiel(): `tensors` must be a list of numeric arrays"),
        (
            [np.full((2, 2), np.nan), np.zeros((2, 2))],
            "NormalFormGame(): `payoffs[0][0][0]` must be finite; got nan",
        ),
    ],
)
def test_openspiel_rejects_bad_tensors(tensors: object, message: str) -> None:
    with pytest.raises(MechsolveInputError, match=exact(message)):
        NormalFormGame.from_openspiel(tensors)


# -- size limits ---------------------------------------------------------------------------------


def test_size_limits() -> None:
    game = NormalFormGame(Z)
    game.check_size("f", None)
    game.check_size("f", Limits(max_outcomes=6, max_players=2))
    assert as_game("f", game, Limits(max_outcomes=6)) is game
    with pytest.raises(
        ProblemTooLargeError,
        match=exact("pareto_mediator(): `game outcomes` has size 6, over the limit max_outcomes=5"),
    ) as info:
        as_game("pareto_mediator", game, Limits(max_outcomes=5))
    assert isinstance(info.value, MechsolveInputError)
    with pytest.raises(
        ProblemTooLargeError,
        match=exact("pareto_mediator(): `game players` has size 2, over the limit max_players=1"),
    ):
        as_game("pareto_mediator", game, DEFAULT_LIMITS.with_(max_players=1))
    with pytest.raises(
        ProblemTooLargeError,
        match=exact("f(): `game outcomes` has size 6, over the limit max_outcomes=5"),
    ):
        game.check_size("f", Limits(max_outcomes=5))


def test_as_game_from_array() -> None:
    payoffs = np.arange(8.0).reshape(2, 2, 2)
    game = as_game("f", payoffs)
    assert game == NormalFormGame(payoffs)
    with pytest.raises(ProblemTooLargeError):
        as_game("f", payoffs, Limits(max_outcomes=3))


@pytest.mark.parametrize("suffix", [".nfg", ".json", ".npz"])
def test_game_files_round_trip(tmp_path: Path, suffix: str) -> None:
    from mechsolve.solver.games import read_game, write_game

    game = NormalFormGame(
        np.arange(12, dtype=np.float64).reshape(2, 2, 3) / 7,
        players=("row", "column"),
        actions=(("up", "down"), ("l", "m", "r")),
        title="round trip",
    )
    path = write_game(game, tmp_path / f"g{suffix}")
    back = read_game(path)
    assert back.players == game.players and back.actions == game.actions
    np.testing.assert_allclose(back.payoffs, game.payoffs, rtol=1e-15)


def test_game_files_refuse_what_is_not_a_game(tmp_path: Path) -> None:
    from mechsolve.solver.games import read_game

    (tmp_path / "x.npz").write_bytes(b"not a zip")
    np.savez(tmp_path / "y.npz", other=np.zeros(2))
    for name, words in (
        ("x.npz", "readable"),
        ("y.npz", "payoffs"),
        ("z.nfg", "existing"),
        ("g.txt", "must end in"),
    ):
        with pytest.raises(MechsolveInputError, match=words):
            read_game(tmp_path / name)
