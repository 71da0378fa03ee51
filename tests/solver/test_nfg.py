"""Gambit ``.nfg`` reading and writing (mechsolve.solver.games.nfg).

The fixture files in ``tests/data/nfg/`` are read table-driven (one ``Case`` per file), their
expected payoffs listed in Gambit's own order (player 1's strategy varying fastest) and turned
into the ``(n, k_1, ..., k_n)`` tensor by a plain loop independent of the reader.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.games.nfg import dumps_nfg, loads_nfg, read_nfg, write_nfg
from mechsolve.solver.games.normal_form import (
    NormalFormGame,
    battle_of_the_sexes,
    public_goods_game,
    seed000_prisoners_dilemma,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "nfg"
SELTEN_HEADER = (
    'NFG 1 R "Selten (IJGT, 75), Figure 2, normal form" { "Player 1" "Player 2" } { 3 2 }\n'
)


def from_gambit_order(ks: Sequence[int], outcomes: Sequence[Sequence[float]]) -> np.ndarray:
    """The payoff tensor of outcomes listed with player 1's strategy varying fastest."""
    n = len(ks)
    payoffs = np.full((n, *ks), np.nan)
    # itertools.product varies its last factor fastest: reverse to make player 1 fastest.
    profiles = [p[::-1] for p in itertools.product(*(range(k) for k in reversed(ks)))]
    for profile, payoff in zip(profiles, outcomes, strict=True):
        assert len(payoff) == n
        for i in range(n):
            payoffs[(i, *profile)] = payoff[i]
    return payoffs


GAMBIT_LABEL_RULE = (
    "Gambit 16.7 reads labels of printable ASCII characters and single spaces, not beginning "
    "or ending with a space"
)


def exact(text: str) -> str:
    """A regex matching exactly ``text``."""
    return "^" + re.escape(text) + "$"


# -- the fixture folder, table-driven ----------------------------------------------------------


@dataclass(frozen=True)
class Case:
    file: str
    title: str
    players: tuple[str, ...]
    actions: tuple[tuple[str, ...], ...]
    outcomes: tuple[tuple[float, ...], ...]  # Gambit order: player 1 fastest
    same_as: Callable[[], NormalFormGame] | None = None  # a fixture with equal payoffs

    @property
    def num_actions(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.actions)


SELTEN = "Selten (IJGT, 75), Figure 2, normal form"
SELTEN_OUTCOMES = ((1, 1), (0, 2), (0, 2), (1, 1), (0, 3), (2, 0))
KEEP = ("keep", "contribute")

CASES = [
    pytest.param(
        Case(
            "e02.nfg",
            SELTEN,
            ("Player 1", "Player 2"),
            (("1", "2", "3"), ("1", "2")),
            SELTEN_OUTCOMES,
        ),
        id="e02-payoff-version",
    ),
    pytest.param(
        Case(
            "e02_outcome.nfg",
            SELTEN,
            ("Player 1", "Player 2"),
            (("1", "2", "3"), ("1", "2")),
            SELTEN_OUTCOMES,
        ),
        id="e02-outcome-version",
    ),
    pytest.param(
        Case(
            "three_player_rationals.nfg",
            "Three players, rationals and decimals",
            ("Player 1", "Player 2", "Player 3"),
            (("1", "2"), ("1", "2"), ("1", "2")),
            (
                (99 / 100, 1 / 3, -1 / 2),
                (0.5, 0.25, 0.001),
                (150.0, -0.5, 3.0),
                (0.0, 0.0, 0.0),
                (-7.0, 1.0, 2.0),
                (100.0, -0.125, 0.125),
                (3 / 1000, -0.75, 4.0),
                (10.0, 20.0, 30.0),
            ),
        ),
        id="three-players-rationals",
    ),
    pytest.param(
        Case(
            "pd_labels_double.nfg",
            'Prisoner\'s "Dilemma" (seed 000, Table 1)',
            ("Row", "Column"),
            (("Cooperate", "Defect"), ("Cooperate", "Defect")),
            ((2, 2), (3, 0), (0, 3), (1, 1)),
            seed000_prisoners_dilemma,
        ),
        id="labels-escapes-crlf-NFG-1-D",
    ),
    pytest.param(
        Case(
            "bos_outcome.nfg",
            "Battle of the Sexes (outcome version)",
            ("Alice", "Bob"),
            (("Bach", "Stravinsky"), ("Bach", "Stravinsky")),
            ((3, 2), (0, 0), (0, 0), (2, 3)),
            battle_of_the_sexes,
        ),
        id="outcome-version-null-outcome",
    ),
    pytest.param(
        Case(
            "matching_pennies_outcome.nfg",
            "Matching pennies",
            ("Matcher", "Mismatcher"),
            (("1", "2"), ("1", "2")),
            ((1, -1), (-1, 1), (-1, 1), (1, -1)),
        ),
        id="outcome-version-repeated-outcomes",
    ),
    pytest.param(
        Case(
            "public_goods_3_outcome.nfg",
            "Public goods game, N = 3, k = 2",
            ("Player 1", "Player 2", "Player 3"),
            (KEEP, KEEP, KEEP),
            (
                (0, 0, 0),
                (-1 / 3, 2 / 3, 2 / 3),
                (2 / 3, -1 / 3, 2 / 3),
                (1 / 3, 1 / 3, 4 / 3),
                (2 / 3, 2 / 3, -1 / 3),
                (1 / 3, 4 / 3, 1 / 3),
                (4 / 3, 1 / 3, 1 / 3),
                (1, 1, 1),
            ),
            lambda: public_goods_game(3, 2.0),
        ),
        id="outcome-version-three-players-rationals",
    ),
    pytest.param(
        Case(
            "single_player.nfg",
            "A decision problem",
            ("Solo",),
            (("low", "mid", "high"),),
            ((1,), (-2.5,), (300,)),
        ),
        id="single-player",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_fixture_file_reads_to_expected_game(case: Case) -> None:
    game = read_nfg(DATA / case.file)
    assert game.title == case.title
    assert game.players == case.players
    assert game.actions == case.actions
    assert game.num_actions == case.num_actions
    assert game.payoffs.dtype == np.float64
    np.testing.assert_array_equal(game.payoffs, from_gambit_order(case.num_actions, case.outcomes))
    if case.same_as is not None:
        np.testing.assert_allclose(game.payoffs, case.same_as().payoffs, rtol=0, atol=1e-15)


@pytest.mark.parametrize("case", CASES)
def test_fixture_file_round_trips(case: Case, tmp_path: Path) -> None:
    game = read_nfg(DATA / case.file)
    assert loads_nfg(dumps_nfg(game)) == game
    write_nfg(game, tmp_path / case.file)
    assert read_nfg(tmp_path / case.file) == game
    assert read_nfg(str(tmp_path / case.file)) == game


def test_every_fixture_file_has_a_case() -> None:
    files = {p.name for p in DATA.glob("*.nfg")}
    cases = {cast(Case, param.values[0]).file for param in CASES}
    assert files == cases


# -- the Selten example ------------------------------------------------------------------------


def test_selten_example_tensor() -> None:
    game = read_nfg(DATA / "e02.nfg")
    assert game.num_actions == (3, 2)
    # Gambit order (player 1 fastest): (1,1), (0,2), (0,2), (1,1), (0,3), (2,0)
    expected = {
        (0, 0): (1, 1),
        (1, 0): (0, 2),
        (2, 0): (0, 2),
        (0, 1): (1, 1),
        (1, 1): (0, 3),
        (2, 1): (2, 0),
    }
    for (a1, a2), payoff in expected.items():
        assert tuple(game.payoffs[:, a1, a2]) == payoff
    np.testing.assert_array_equal(game.payoffs[0], [[1, 1], [0, 0], [0, 2]])
    np.testing.assert_array_equal(game.payoffs[1], [[1, 1], [2, 3], [2, 0]])


def test_selten_text_from_the_brief_reads_and_writes_back_equal() -> None:
    text = SELTEN_HEADER + "1 1 0 2 0 2 1 1 0 3 2 0\n"
    game = read_nfg(text)
    assert game == read_nfg(DATA / "e02.nfg")
    assert read_nfg(dumps_nfg(game)) == game


def test_outcome_version_equals_payoff_version() -> None:
    assert read_nfg(DATA / "e02_outcome.nfg") == read_nfg(DATA / "e02.nfg")


def test_dumps_writes_the_payoff_version_in_gambit_order() -> None:
    text = dumps_nfg(read_nfg(DATA / "e02.nfg"))
    assert text == (
        'NFG 1 R "Selten (IJGT, 75), Figure 2, normal form" { "Player 1" "Player 2" }\n'
        "{ 3 2 }\n"
        "\n"
        "1 1\n0 2\n0 2\n1 1\n0 3\n2 0\n"
    )


def test_dumps_writes_labels_with_escapes() -> None:
    game = NormalFormGame(
        np.zeros((2, 1, 2)),
        players=('say "hi"', "back\\slash"),
        actions=(("only",), ("1", "2")),
        title="",
    )
    text = dumps_nfg(game)
    assert text.splitlines()[:2] == [
        'NFG 1 R "" { "say \\"hi\\"" "back\\\\slash" }',
        '{ { "only" } { "1" "2" } }',
    ]
    assert loads_nfg(text) == game


# -- numbers and strings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("3", 3.0),
        ("+3", 3.0),
        ("-0", 0.0),
        ("007", 7.0),
        ("99/100", 0.99),
        ("-2/4", -0.5),
        ("+3/4", 0.75),
        ("1/3", 1 / 3),
        ("2/3", 2 / 3),
        (".5", 0.5),
        ("5.", 5.0),
        ("-.75", -0.75),
        ("1.25", 1.25),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("1.5e+2", 150.0),
        ("-2.5E-1", -0.25),
        ("0.1", 0.1),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ("1/123456789012345678901234567890", 1 / 123456789012345678901234567890),
        ("4.9e-324", 5e-324),
    ],
)
def test_numbers_round_to_nearest_float(token: str, value: float) -> None:
    game = loads_nfg(f'NFG 1 R "" {{ "P" }} {{ 1 }} {token}')
    assert game.payoffs[0, 0] == value


def test_outcome_payoffs_accept_commas_rationals_and_decimals() -> None:
    text = 'NFG 1 R "" { "A" "B" } { 2 1 }\n{ { "x" 1/2, .25 } { "y" -3e-1 4/5, } }\n2 1\n'
    game = loads_nfg(text)
    np.testing.assert_array_equal(game.payoffs[:, :, 0], [[-0.3, 0.5], [0.8, 0.25]])


def test_signs_and_leading_zeros_in_counts_and_indices() -> None:
    game = loads_nfg('NFG 1 R "" { "A" "B" } { +02 1 } { { "x" 1 2 } } -0 +001')
    np.testing.assert_array_equal(game.payoffs[:, :, 0], [[0, 1], [0, 2]])


def test_empty_outcome_list_means_all_null_outcomes() -> None:
    game = loads_nfg('NFG 1 R "" { "A" "B" } { 2 2 } { } 0 0 0 0')
    np.testing.assert_array_equal(game.payoffs, np.zeros((2, 2, 2)))


def test_strings_with_escapes_braces_and_newlines() -> None:
    text = (
        'NFG 1 R "say \\"hi\\" { } , 1 2" { "back\\\\slash" "odd\\q" "two\nlines" }'
        ' { 1 1 1 } "comment with \\"quotes\\"" 1 2 3'
    )
    game = loads_nfg(text)
    assert game.title == 'say "hi" { } , 1 2'
    assert game.players == ("back\\slash", "odd\\q", "two\nlines")
    np.testing.assert_array_equal(game.payoffs.ravel(), [1, 2, 3])


def test_whitespace_is_insignificant() -> None:
    compact = 'NFG 1 R "t"{"a""b"}{2 1}1 2 3 4'
    spread = 'NFG\n1\tR\r\n"t"\n{ "a"\n"b" }\n{\n2\n1\n}\n\n1 2\n\t3 4\n'
    assert loads_nfg(compact) == loads_nfg(spread)


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.nfg"
    path.write_bytes(b"\xef\xbb\xbf" + (DATA / "e02.nfg").read_bytes())
    assert read_nfg(path) == read_nfg(DATA / "e02.nfg")
    assert loads_nfg("\ufeff" + (DATA / "e02.nfg").read_text()) == read_nfg(path)


def test_latin1_file_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "latin1.nfg"
    path.write_bytes('NFG 1 R "Caf\xe9" { "\xc5sa" } { 1 } 1'.encode("latin-1"))
    game = read_nfg(path)
    assert (game.title, game.players) == ("Café", ("Åsa",))


def test_comment_is_optional_and_ignored() -> None:
    with_comment = loads_nfg('NFG 1 R "t" { "a" } { 2 } "a comment" 1 2')
    without = loads_nfg('NFG 1 R "t" { "a" } { 2 } 1 2')
    assert with_comment == without


# -- writing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.0, "2"),
        (-3.0, "-3"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (1e15, "1000000000000000.0"),
        (1e16, "10000000000000000"),  # repr 1e+16: Gambit 16.7 refuses a '+' exponent
        (1e20, "100000000000000000000"),
        (6.884467305709401e16, "68844673057094010"),
        (-3.5e300, "-35" + "0" * 299),
        (1e-20, "0." + "0" * 19 + "1"),
        (-1.5e-7, "-0.00000015"),
        (5e-324, "0." + "0" * 323 + "5"),
        (1.7976931348623157e308, "17976931348623157" + "0" * 292),
    ],
)
def test_dumps_uses_shortest_exact_decimal_without_exponent(value: float, text: str) -> None:
    """The shortest digits that read back to the same float64 (repr's), written positionally:
    Gambit 16.7 refuses exponents with a '+' sign (``1e+16``) and reads plain decimals
    exactly."""
    game = NormalFormGame(np.array([[value]]))
    assert dumps_nfg(game).splitlines()[-1] == text
    assert loads_nfg(dumps_nfg(game)).payoffs[0, 0] == value


GAMBIT_NUMBER = re.compile(r"-?\d+(\.\d+)?")
"""What the writer may emit: Gambit reads these exactly (no exponent, no '+')."""


@settings(max_examples=300)
@given(hnp.arrays(np.float64, (1, 6), elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_every_written_number_is_a_plain_decimal_that_reads_back_exactly(payoffs) -> None:
    text = dumps_nfg(NormalFormGame(payoffs))
    tokens = text.split("\n", 3)[3].split()
    assert len(tokens) == 6
    for tok, x in zip(tokens, payoffs.ravel(), strict=True):
        assert GAMBIT_NUMBER.fullmatch(tok), tok
        assert float(tok) == x  # the nearest float64 of the decimal (as Gambit's rational)


def test_dumps_accepts_a_payoff_array() -> None:
    payoffs = np.arange(12.0).reshape(2, 3, 2)
    assert loads_nfg(dumps_nfg(payoffs)) == NormalFormGame(payoffs)


def _gambit_label(text: str) -> str:
    """``text`` made a label Gambit reads: single spaces, none at the ends."""
    return re.sub(" +", " ", text).strip(" ")


def _writable_label(label: str) -> bool:
    """The writer's rule for labels, restated: printable ASCII, single spaces inside only."""
    return label.isascii() and label.isprintable() and label == _gambit_label(label)


PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
LABEL = st.text(
    alphabet=st.one_of(st.sampled_from('"\\{},/ 0123456789e.-+'), st.sampled_from(PRINTABLE)),
    max_size=8,
).map(_gambit_label)
"""Player and action labels the writer accepts (printable ASCII, single inner spaces)."""
TITLE = st.text(
    alphabet=st.one_of(
        st.sampled_from('"\\{},/ \t\n\r0123456789e.-+'), st.characters(max_codepoint=127)
    ),
    max_size=8,
)
"""Titles the writer accepts: any ASCII (Gambit reads tabs, newlines, spaces anywhere)."""
ANY_TEXT = st.text(
    alphabet=st.one_of(st.sampled_from('"\\{},/ \t\n\r0123456789e.-+'), st.characters()),
    max_size=8,
)
FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def labelled_games(draw: st.DrawFn) -> NormalFormGame:
    ks = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    n = len(ks)
    payoffs = draw(
        hnp.arrays(
            np.float64,
            (n, *ks),
            elements=st.one_of(FINITE, st.integers(-1000, 1000).map(float)),
        )
    )
    players = draw(st.one_of(st.just(()), st.tuples(*[LABEL] * n)))
    actions = draw(
        st.one_of(st.just(()), st.tuples(*[st.lists(LABEL, min_size=k, max_size=k) for k in ks]))
    )
    title = draw(TITLE)
    return NormalFormGame(payoffs, players=players, actions=actions, title=title)


@settings(max_examples=150, deadline=None)
@given(game=labelled_games())
def test_random_labelled_games_round_trip(game: NormalFormGame) -> None:
    back = loads_nfg(dumps_nfg(game))
    assert back == game
    # bitwise equality except the sign of zero
    np.testing.assert_array_equal(back.payoffs, game.payoffs, strict=True)


def test_write_nfg_writes_bytes_unchanged(tmp_path: Path) -> None:
    """No newline translation: a CR LF inside the title (Gambit reads any ASCII there) is
    written and read back as it is; the file is ASCII."""
    game = NormalFormGame(np.zeros((1, 1)), players=('a "b"',), title="two\r\nlines\tand tab")
    path = tmp_path / "g.nfg"
    write_nfg(game, path)
    assert path.read_bytes().decode("ascii") == dumps_nfg(game)
    assert read_nfg(path) == game
    unicode = NormalFormGame(np.zeros((1, 1)), players=("a",), title="ünïcode ✓")
    with pytest.raises(
        MechsolveInputError, match=r"^write_nfg\(\): `game.title` has a non-ASCII character 'ü' at"
    ):
        write_nfg(unicode, tmp_path / "u.nfg")
    assert not (tmp_path / "u.nfg").exists()  # refused before the file is opened


REFUSED = [
    pytest.param(
        dict(title="Café"),
        "`game.title` has a non-ASCII character 'é' at index 3 (Gambit 16.7 reads ASCII titles "
        "only); got 'Café'",
        id="title-non-ascii",
    ),
    pytest.param(
        dict(players=("Row", "Åsa")),
        "`game.players[1]` has a non-ASCII character 'Å' at index 0 ("
        + GAMBIT_LABEL_RULE
        + "); got 'Åsa'",
        id="player-non-ascii",
    ),
    pytest.param(
        dict(players=(" Row", "Col")),
        "`game.players[0]` begins with a space (" + GAMBIT_LABEL_RULE + "); got ' Row'",
        id="player-leading-space",
    ),
    pytest.param(
        dict(players=("Row", "Col ")),
        "`game.players[1]` ends with a space (" + GAMBIT_LABEL_RULE + "); got 'Col '",
        id="player-trailing-space",
    ),
    pytest.param(
        dict(players=("Row  1", "Col")),
        "`game.players[0]` has two consecutive spaces at index 3 ("
        + GAMBIT_LABEL_RULE
        + "); got 'Row  1'",
        id="player-double-space",
    ),
    pytest.param(
        dict(players=("Row\t1", "Col")),
        "`game.players[0]` has a control character '\\t' at index 3 ("
        + GAMBIT_LABEL_RULE
        + "); got 'Row\\t1'",
        id="player-tab",
    ),
    pytest.param(
        dict(actions=(("a", "b"), ("x", "y", "✓"))),
        "`game.actions[1][2]` has a non-ASCII character '✓' at index 0 ("
        + GAMBIT_LABEL_RULE
        + "); got '✓'",
        id="action-non-ascii",
    ),
    pytest.param(
        dict(actions=(("a", "b"), ("x", "two\nlines", "z"))),
        "`game.actions[1][1]` has a control character '\\n' at index 3 ("
        + GAMBIT_LABEL_RULE
        + "); got 'two\\nlines'",
        id="action-newline",
    ),
    pytest.param(
        dict(actions=(("a", "b "), ("x", "y", "z"))),
        "`game.actions[0][1]` ends with a space (" + GAMBIT_LABEL_RULE + "); got 'b '",
        id="action-trailing-space",
    ),
    pytest.param(
        dict(actions=(("a", "b\x7f"), ("x", "y", "z"))),
        "`game.actions[0][1]` has a control character '\\x7f' at index 1 ("
        + GAMBIT_LABEL_RULE
        + "); got 'b\\x7f'",
        id="action-delete",
    ),
]


@pytest.mark.parametrize(("labels", "message"), REFUSED)
def test_writer_refuses_what_gambit_cannot_read(labels: dict, message: str, tmp_path: Path) -> None:
    """Gambit 16.7 refuses these labels ("a label may contain only printable ASCII characters
    and spaces, must not begin or end with a space, and must not contain two consecutive
    spaces") and non-ASCII titles; the writer refuses them, naming the label and the rule."""
    game = NormalFormGame(np.zeros((2, 2, 3)), **labels)
    with pytest.raises(MechsolveInputError, match=exact("dumps_nfg(): " + message)):
        dumps_nfg(game)
    with pytest.raises(MechsolveInputError, match=exact("write_nfg(): " + message)):
        write_nfg(game, tmp_path / "g.nfg")


@pytest.mark.parametrize(
    "title", [" lead", "trail ", "double  space", "tab\there", "line\nbreak", "\x00", ""]
)
def test_titles_gambit_reads_are_written(title: str) -> None:
    """Unlike labels, Gambit 16.7 reads any ASCII title (spaces, tabs, control characters)."""
    game = NormalFormGame(np.zeros((1, 2)), title=title)
    assert loads_nfg(dumps_nfg(game)) == game


@settings(max_examples=300)
@given(players=st.tuples(ANY_TEXT, ANY_TEXT), action=ANY_TEXT, title=ANY_TEXT)
def test_any_labels_are_either_refused_by_name_or_round_trip(
    players: tuple[str, str], action: str, title: str
) -> None:
    """Whatever the labels: the writer names the first offending one (title, then players,
    then actions), or the text reads back equal."""
    game = NormalFormGame(
        np.zeros((2, 2, 1)), players=players, actions=(("a", action), ("x",)), title=title
    )
    ok = {
        "game.title": title.isascii(),
        "game.players[0]": _writable_label(players[0]),
        "game.players[1]": _writable_label(players[1]),
        "game.actions[0][1]": _writable_label(action),
    }
    bad = [name for name, good in ok.items() if not good]
    if bad:
        with pytest.raises(MechsolveInputError) as info:
            dumps_nfg(game)
        assert info.value.argument == bad[0]
    else:
        assert loads_nfg(dumps_nfg(game)) == game


# -- malformed input ------------------------------------------------------------------------------

H1 = 'NFG 1 R "t" { "a" } { 1 }\n'
H2 = 'NFG 1 R "t" { "A" "B" } { 2 2 }\n'

BAD = [
    pytest.param(
        "",
        "`header` must start with 'NFG 1 R' (a Gambit strategic game); got end of file "
        "at line 1, column 1",
        id="empty",
    ),
    pytest.param(
        'EFG 2 R "t" { "a" }',
        "`header` must start with 'NFG 1 R' (a Gambit strategic game); got 'EFG' "
        "at line 1, column 1",
        id="extensive-game",
    ),
    pytest.param(
        'NFG 2 R "t"',
        "`header` expected the format version '1' at line 1, column 5; got '2'",
        id="version-2",
    ),
    pytest.param(
        'NFG 1 X "t"',
        "`header` expected the number type 'R' or 'D' at line 1, column 7; got 'X'",
        id="number-type",
    ),
    pytest.param(
        'NFG 1 R { "a" } { 1 } 1',
        "`title` expected the quoted game title at line 1, column 9; got '{'",
        id="no-title",
    ),
    pytest.param(
        'NFG 1 R "abc',
        "`title` has an unterminated string starting at line 1, column 9",
        id="unterminated-title",
    ),
    pytest.param(
        'NFG 1 R "t" "a" { 1 } 1',
        "`players` expected '{' opening the list of player names at line 1, column 13; "
        'got the string "a"',
        id="players-no-brace",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" 3 } { 1 } 1',
        "`players` expected a quoted player name or '}' at line 1, column 19; got '3'",
        id="player-not-a-string",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" "b } { 1 1 } 1 1',
        "`players` has an unterminated string starting at line 1, column 19",
        id="unterminated-player",
    ),
    pytest.param(
        'NFG 1 R "t" { } { } ',
        "`players` must name at least one player; got none at line 1, column 15",
        id="no-players",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" "b" } { 3 } 1',
        "`strategies` expected one strategy count per player (2); got 1 at line 1, column 29",
        id="too-few-counts",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" } { { "x" } { "y" } }',
        "`strategies` expected one label list per player (1); got 2 at line 1, column 39",
        id="too-many-label-lists",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" "b" } { 0 2 }',
        "`strategies[0]` must be a positive integer strategy count; got '0' at line 1, column 27",
        id="zero-strategies",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" } { -1 }',
        "`strategies[0]` must be a positive integer strategy count; got '-1' at line 1, column 23",
        id="negative-strategies",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" "b" } { 2 2.5 }',
        "`strategies[1]` must be a positive integer strategy count; got '2.5' at line 1, column 29",
        id="fractional-strategies",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" "b" } { { } { "x" } }',
        "`strategies[0]` must list at least one strategy; got none at line 1, column 29",
        id="empty-label-list",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" "b" } { { "x" 1 } { "y" } }',
        "`strategies[0]` expected a quoted strategy label or '}' at line 1, column 33; got '1'",
        id="label-not-a-string",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" "b" } { { "x" } 2 }',
        "`strategies` expected a '{' opening a label list or '}' at line 1, column 35; got '2'",
        id="labels-mixed-with-counts",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" } { 2 ',
        "`strategies` expected a strategy count or '}' at line 1, column 25; got end of file",
        id="strategies-unclosed",
    ),
    pytest.param(
        H2 + "abc",
        "`payoffs` expected a payoff (number) or an outcome list ('{') at line 2, column 1; "
        "got 'abc'",
        id="body-not-numbers",
    ),
    pytest.param(
        H1 + '"comment" "second" 1',
        "`payoffs` expected a payoff (number) or an outcome list ('{') at line 2, column 11; "
        'got the string "second"',
        id="two-comments",
    ),
    pytest.param(
        H2 + "1 2 x 4 5 6 7 8",
        "`payoffs` expected a number at line 2, column 5; got 'x'",
        id="payoff-not-a-number",
    ),
    pytest.param(
        H2 + '1 2 3 4 5 6 7 8 "x"',
        '`payoffs` expected a number at line 2, column 17; got the string "x"',
        id="string-after-payoffs",
    ),
    pytest.param(
        H2 + "1, 2 3 4 5 6 7 8",
        "`payoffs` expected a number at line 2, column 2; got ','",
        id="comma-in-payoff-version",
    ),
    pytest.param(
        H2 + "1 2 3 4 5 6 7 1/0",
        "`payoffs` has a zero denominator: '1/0' at line 2, column 15",
        id="zero-denominator",
    ),
    pytest.param(
        H2 + "1 2 3 4 5 6 7 1e999",
        "`payoffs` must be finite; got '1e999' at line 2, column 15",
        id="overflow",
    ),
    pytest.param(
        H2 + "1 2 3 4 5 6 7 nan",
        "`payoffs` expected a number at line 2, column 15; got 'nan'",
        id="nan",
    ),
    pytest.param(
        H1 + "\u0663",
        "`payoffs` expected a payoff (number) or an outcome list ('{') at line 2, column 1; "
        "got '\u0663'",
        id="non-ascii-digit",
    ),
    pytest.param(
        H1 + "1/" + "3" * 5000,
        "`payoffs` has a number too long to read: '1/" + "3" * 35 + "...' at line 2, column 1",
        id="rational-too-long",
    ),
    pytest.param(
        'NFG 1 R "t" { "a" } { ' + "3" * 5000 + " }",
        "`strategies[0]` has a number too long to read: '" + "3" * 37 + "...' at line 1, column 23",
        id="count-too-long",
    ),
    pytest.param(
        H2 + "1 2 3 4 5 6 7",
        "`payoffs` expected 8 numbers (2 players x 4 outcomes); got 7",
        id="too-few-payoffs",
    ),
    pytest.param(
        H2 + "1 2 3 4 5 6 7 8 9",
        "`payoffs` expected 8 numbers (2 players x 4 outcomes); got 9",
        id="too-many-payoffs",
    ),
    pytest.param(
        H2,
        "`payoffs` expected 8 numbers (2 players x 4 outcomes); got 0",
        id="no-payoffs",
    ),
    pytest.param(
        H1 + "1 2",
        "`payoffs` expected 1 number (1 player x 1 outcome); got 2",
        id="singular",
    ),
    pytest.param(
        H2 + '{ "x" }',
        "`outcomes` expected '{' opening an outcome or '}' closing the list at line 2, "
        'column 3; got the string "x"',
        id="outcome-list-garbage",
    ),
    pytest.param(
        H2 + '{ { "" 1, 2 }',
        "`outcomes` expected '{' opening an outcome or '}' closing the list at line 2, "
        "column 14; got end of file",
        id="outcome-list-unclosed",
    ),
    pytest.param(
        H2 + "{ { 1, 1 } }",
        "`outcomes[0]` expected the quoted outcome name at line 2, column 5; got '1'",
        id="outcome-without-name",
    ),
    pytest.param(
        H2 + '{ { "" 1, 2 } { "" 1 } }',
        "`outcomes[1]` expected 2 payoffs (one per player); got 1 at line 2, column 22",
        id="outcome-too-few-payoffs",
    ),
    pytest.param(
        H2 + '{ { "" 1 2 3 } }',
        "`outcomes[0]` expected 2 payoffs (one per player); got more at line 2, column 12",
        id="outcome-too-many-payoffs",
    ),
    pytest.param(
        H2 + '{ { "" 1,, 2 } }',
        "`outcomes[0]` expected a payoff (number) or '}' at line 2, column 10; got ','",
        id="outcome-double-comma",
    ),
    pytest.param(
        H2 + '{ { "" , 1 2 } }',
        "`outcomes[0]` expected a payoff (number) or '}' at line 2, column 8; got ','",
        id="outcome-leading-comma",
    ),
    pytest.param(
        H2 + '{ { "" 1, 2 } }\n1 0 0 2',
        "`outcome indices[3]` must be in [0, 1] (0 is the null outcome; 1 listed); got 2 "
        "at line 3, column 7",
        id="outcome-index-too-large",
    ),
    pytest.param(
        H2 + '{ { "" 1, 2 } } -1 0 0 0',
        "`outcome indices[0]` must be in [0, 1] (0 is the null outcome; 1 listed); got -1 "
        "at line 2, column 17",
        id="outcome-index-negative",
    ),
    pytest.param(
        H2 + '{ { "" 1, 2 } }\n1 0 0 1.0',
        "`outcome indices[3]` expected an integer outcome index at line 3, column 7; got '1.0'",
        id="outcome-index-not-integer",
    ),
    pytest.param(
        H2 + '{ { "" 1, 2 } }\n1 0 0',
        "`outcome indices` expected 4 numbers (one outcome index per profile of 2 x 2); got 3",
        id="too-few-outcome-indices",
    ),
    pytest.param(
        H2 + '{ { "" 1, 2 } }\n1 0 0 1 1',
        "`outcome indices` expected 4 numbers (one outcome index per profile of 2 x 2); got 5",
        id="too-many-outcome-indices",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_malformed_text_is_rejected(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(MechsolveInputError, match=exact("loads_nfg(): " + message)):
        loads_nfg(text)
    path = tmp_path / "bad.nfg"
    path.write_text(text, encoding="utf-8", newline="")
    with pytest.raises(MechsolveInputError, match=exact("read_nfg(): " + message)):
        read_nfg(path)


def test_payoff_count_mismatch_names_expected_count() -> None:
    """The brief's example: the Selten game with one payoff missing."""
    with pytest.raises(
        MechsolveInputError,
        match=exact("read_nfg(): `payoffs` expected 12 numbers (2 players x 6 outcomes); got 11"),
    ) as info:
        read_nfg(SELTEN_HEADER + "1 1 0 2 0 2 1 1 0 3 2")
    assert info.value.function == "read_nfg"
    assert info.value.argument == "payoffs"


def test_error_location_counts_lines_and_columns() -> None:
    text = 'NFG 1 R "multi\nline title"\n{ "a" }\n{ 2 }\n\n  1\n    oops\n'
    with pytest.raises(
        MechsolveInputError,
        match=exact("loads_nfg(): `payoffs` expected a number at line 7, column 5; got 'oops'"),
    ):
        loads_nfg(text)


def test_declared_size_over_the_limit_is_rejected_before_reading_payoffs() -> None:
    with pytest.raises(
        ProblemTooLargeError,
        match=exact(
            "loads_nfg(): `strategies` has size 1000000000, over the limit max_outcomes=16777216"
        ),
    ):
        loads_nfg('NFG 1 R "t" { "a" "b" "c" } { 1000 1000 1000 }')
    with pytest.raises(
        ProblemTooLargeError,
        match=exact(
            "loads_nfg(): `strategies` has size 256000000000000, over the limit "
            "max_outcomes=16777216"
        ),
    ):
        loads_nfg('NFG 1 R "t" { "a" "b" } { 16000000 16000000 }')
    with pytest.raises(
        ProblemTooLargeError,
        match=exact("read_nfg(): `players` has size 3, over the limit max_players=2"),
    ):
        read_nfg(
            'NFG 1 R "t" { "a" "b" "c" } { 1 1 1 } 1 2 3', limits=Limits().with_(max_players=2)
        )
    with pytest.raises(
        ProblemTooLargeError,
        match=exact("read_nfg(): `strategies` has size 6, over the limit max_outcomes=5"),
    ):
        read_nfg(DATA / "e02.nfg", limits=Limits().with_(max_outcomes=5))
    assert read_nfg(DATA / "e02.nfg", limits=Limits().with_(max_outcomes=6)).n_outcomes == 6


def test_bad_arguments() -> None:
    with pytest.raises(
        MechsolveInputError,
        match=exact("loads_nfg(): `text` must be the text of an .nfg file (str); got bytes"),
    ):
        loads_nfg(b"NFG 1 R")
    with pytest.raises(
        MechsolveInputError,
        match=exact(
            "read_nfg(): `path_or_text` must be a path or the text of an .nfg file; got 12"
        ),
    ):
        read_nfg(12)
    with pytest.raises(
        MechsolveInputError,
        match=r"^read_nfg\(\): `path_or_text` cannot be read as a file: No such file or directory; "
        r"got '.*missing\.nfg'$",
    ):
        read_nfg(DATA / "missing.nfg")
    with pytest.raises(
        MechsolveInputError,
        match=r"^write_nfg\(\): `path` cannot be written: No such file or directory; "
        r"got '.*no-such-dir/g\.nfg'$",
    ):
        write_nfg(NormalFormGame(np.zeros((1, 1))), DATA / "no-such-dir" / "g.nfg")
    with pytest.raises(
        MechsolveInputError,
        match=exact(
            "dumps_nfg(): `game` must have at least one player and one action each; got shape (1, 0)"
        ),
    ):
        dumps_nfg(np.zeros((1, 0)))
