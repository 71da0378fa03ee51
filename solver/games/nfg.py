"""Gambit strategic-game (``.nfg``) files: read both versions, write the payoff version.

The format (https://gambitproject.readthedocs.io/en/stable/formats.html)::

    NFG 1 R "Selten (IJGT, 75), Figure 2, normal form" { "Player 1" "Player 2" } { 3 2 }
    "an optional comment"

    1 1 0 2 0 2 1 1 0 3 2 0

- Header: ``NFG 1 R`` (or the obsolete ``NFG 1 D``), the quoted title, the quoted player names
  in braces, then per player either a strategy count (``{ 3 2 }``) or a list of quoted strategy
  labels (``{ { "T" "M" "B" } { "L" "R" } }``), then an optional quoted comment (ignored).
- Payoff version: for every pure profile, player 1's strategy varying fastest, every player's
  payoff in player order.
- Outcome version: a list of outcomes ``{ { "name" 1, 1 } { "name" 0, 2 } ... }`` (commas
  optional), then one outcome index per profile (player 1 fastest; ``0`` = the null outcome,
  all payoffs zero; ``j`` = the j-th outcome of the list).

Numbers are integers, decimals (``.5``, ``1.5e-3``) or rationals (``99/100``); each is rounded
once to the nearest float64. Whitespace is insignificant outside quotes. Inside a quoted label,
``\\"`` is a quote and ``\\\\`` a backslash; any other backslash is kept as it is (as Gambit
does). Gambit itself only escapes quotes, so files written from labels without backslashes
are byte-for-byte what Gambit would accept.

Writing always produces the payoff version with the shortest decimal that reads back to the
same float64 (``repr``), written without exponent (Gambit 16.7 refuses ``1e+16``; it reads
plain decimals exactly, as rationals), so ``loads_nfg(dumps_nfg(g)) == g`` for every game the
writer accepts: payoffs, title, player and action labels are preserved. The writer refuses
what Gambit 16.7 cannot read (checked with pygambit 16.7.0): player and action labels must be
printable ASCII (``" "`` to ``"~"``) without a leading, trailing or double space; the title
must be ASCII (Gambit reads any ASCII there, tabs and newlines included). Gambit reads an
empty label but renames it (``"_1"``), and reads ``\\\\`` in a label as more than one
backslash; both are written as they are.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from .normal_form import NormalFormGame, as_game

__all__ = ["dumps_nfg", "loads_nfg", "read_nfg", "write_nfg"]

# -- lexer -------------------------------------------------------------------------------------

_LBRACE, _RBRACE, _COMMA, _TEXT, _OPEN, _NUMBER, _SYMBOL, _EOF = (
    "{",
    "}",
    ",",
    "text",
    "open",
    "number",
    "symbol",
    "eof",
)

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<lbrace>\{)
    |(?P<rbrace>\})
    |(?P<comma>,)
    |(?P<text>"(?:[^"\\]|\\.)*")
    |(?P<open>"[\s\S]*)
    |(?P<word>[^\s{}",]+)
    """,
    re.VERBOSE | re.DOTALL,
)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?\d+/\d+", re.ASCII)
_INTEGER_RE = re.compile(r"[+-]?\d+", re.ASCII)
_UNESCAPE_RE = re.compile(r'\\(["\\])')
_KINDS = {"lbrace": _LBRACE, "rbrace": _RBRACE, "comma": _COMMA, "text": _TEXT, "open": _OPEN}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str  # raw source text (for TEXT: the unescaped label)
    pos: int  # offset in the source


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for m in _TOKEN_RE.finditer(text):
        group = m.lastgroup
        if group == "ws":
            continue
        raw = m.group()
        if group == "word":
            kind = _NUMBER if _NUMBER_RE.fullmatch(raw) else _SYMBOL
            tokens.append(_Token(kind, raw, m.start()))
        elif group == "text":
            tokens.append(_Token(_TEXT, _UNESCAPE_RE.sub(r"\1", raw[1:-1]), m.start()))
        else:
            tokens.append(_Token(_KINDS[str(group)], raw, m.start()))
    tokens.append(_Token(_EOF, "", len(text)))
    return tokens


def _quote(label: str) -> str:
    return '"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


# -- parser ------------------------------------------------------------------------------------


class _Parser:
    """Recursive-descent reader over the token list; every error names the argument and place."""

    def __init__(self, function: str, text: str, limits: Limits) -> None:
        self.fn = function
        self.source = text
        self.limits = limits
        self.tokens = _tokenize(text)
        self.i = 0

    # token access
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def next(self) -> _Token:
        tok = self.tokens[self.i]
        if tok.kind != _EOF:
            self.i += 1
        return tok

    def where(self, tok: _Token) -> str:
        line = self.source.count("\n", 0, tok.pos) + 1
        column = tok.pos - (self.source.rfind("\n", 0, tok.pos) + 1) + 1
        return f"line {line}, column {column}"

    @staticmethod
    def describe(tok: _Token) -> str:
        if tok.kind == _EOF:
            return "end of file"
        if tok.kind == _TEXT:
            return f"the string {_clip(_quote(tok.text))}"
        if tok.kind == _OPEN:
            return "an unterminated string"
        return f"'{_clip(tok.text)}'"

    def fail(self, argument: str, detail: str) -> NoReturn:
        raise MechsolveInputError(self.fn, argument, detail)

    def unexpected(self, argument: str, what: str, tok: _Token) -> NoReturn:
        if tok.kind == _OPEN:
            self.fail(argument, f"has an unterminated string starting at {self.where(tok)}")
        self.fail(argument, f"expected {what} at {self.where(tok)}; got {self.describe(tok)}")

    def expect(self, kind: str, argument: str, what: str) -> _Token:
        tok = self.next()
        if tok.kind != kind:
            self.unexpected(argument, what, tok)
        return tok

    def integer(self, tok: _Token, argument: str, text: str | None = None) -> int:
        """The value of an integer token, or of ``text`` inside it.

        Python refuses to convert integers of over 4300 digits; that is an input error here.
        """
        try:
            return int(tok.text if text is None else text)
        except ValueError:
            self.fail(
                argument, f"has a number too long to read: '{_clip(tok.text)}' at {self.where(tok)}"
            )

    def number(self, tok: _Token, argument: str) -> float:
        """The float64 nearest to a number token (integer, decimal or rational)."""
        text = tok.text
        try:
            if "/" in text:
                num, den = (self.integer(tok, argument, part) for part in text.split("/"))
                if den == 0:
                    self.fail(argument, f"has a zero denominator: '{text}' at {self.where(tok)}")
                value = float(Fraction(num, den))
            else:
                value = float(text)
        except OverflowError:
            value = float("inf")
        if not np.isfinite(value):
            self.fail(argument, f"must be finite; got '{_clip(text)}' at {self.where(tok)}")
        return value

    # grammar
    def game(self) -> NormalFormGame:
        title, players, labels = self.header()
        n = len(players)
        ks = tuple(len(a) for a in labels)
        m = _prod(ks)
        tok = self.peek()
        if tok.kind == _LBRACE:
            table = self.outcome_body(n, ks, m)
        elif tok.kind in (_NUMBER, _EOF):
            table = self.payoff_body(n, m)
        else:
            self.unexpected("payoffs", "a payoff (number) or an outcome list ('{')", self.next())
        payoffs = np.ascontiguousarray(table.T.reshape((n, *ks), order="F"))
        return NormalFormGame(payoffs, players=players, actions=labels, title=title)

    def header(self) -> tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]]:
        tok = self.next()
        if tok.kind != _SYMBOL or tok.text != "NFG":
            self.fail(
                "header",
                f"must start with 'NFG 1 R' (a Gambit strategic game); got "
                f"{self.describe(tok)} at {self.where(tok)}",
            )
        tok = self.next()
        if tok.kind != _NUMBER or tok.text != "1":
            self.unexpected("header", "the format version '1'", tok)
        tok = self.next()
        if tok.kind != _SYMBOL or tok.text not in ("R", "D"):
            self.unexpected("header", "the number type 'R' or 'D'", tok)
        title = self.expect(_TEXT, "title", "the quoted game title").text
        players = self.players()
        labels = self.strategies(len(players))
        if self.peek().kind == _TEXT:  # optional comment
            self.next()
        return title, players, labels

    def players(self) -> tuple[str, ...]:
        self.expect(_LBRACE, "players", "'{' opening the list of player names")
        names: list[str] = []
        while (tok := self.next()).kind == _TEXT:
            names.append(tok.text)
        if tok.kind != _RBRACE:
            self.unexpected("players", "a quoted player name or '}'", tok)
        if not names:
            self.fail("players", f"must name at least one player; got none at {self.where(tok)}")
        self.limits.check(self.fn, "players", len(names), "max_players")
        return tuple(names)

    def strategies(self, n: int) -> tuple[tuple[str, ...], ...]:
        self.expect(_LBRACE, "strategies", "'{' opening the strategy counts or labels")
        labels: list[tuple[str, ...]] = []
        counts: list[int] = []
        nested = self.peek().kind == _LBRACE
        while (tok := self.next()).kind != _RBRACE:
            i = len(labels) + len(counts)
            if nested and tok.kind == _LBRACE:
                names: list[str] = []
                while (inner := self.next()).kind == _TEXT:
                    names.append(inner.text)
                if inner.kind != _RBRACE:
                    self.unexpected(f"strategies[{i}]", "a quoted strategy label or '}'", inner)
                if not names:
                    self.fail(
                        f"strategies[{i}]",
                        f"must list at least one strategy; got none at {self.where(inner)}",
                    )
                labels.append(tuple(names))
            elif not nested and tok.kind == _NUMBER:
                # a positive integer: digits (optional '+'), not all zeros
                if not _INTEGER_RE.fullmatch(tok.text) or not tok.text.lstrip("+0").isdigit():
                    self.fail(
                        f"strategies[{i}]",
                        f"must be a positive integer strategy count; got '{_clip(tok.text)}' "
                        f"at {self.where(tok)}",
                    )
                counts.append(self.integer(tok, f"strategies[{i}]"))
            else:
                what = "a '{' opening a label list" if nested else "a strategy count"
                self.unexpected("strategies", f"{what} or '}}'", tok)
        if len(labels) + len(counts) != n:
            kind = "label list" if nested else "strategy count"
            self.fail(
                "strategies",
                f"expected one {kind} per player ({n}); got {len(labels) + len(counts)} "
                f"at {self.where(tok)}",
            )
        sizes = [len(a) for a in labels] if nested else counts
        self.limits.check(self.fn, "strategies", _prod(sizes), "max_outcomes")
        if not nested:  # Gambit's default labels, made only once the size is known to be fine
            labels = [tuple(str(j + 1) for j in range(k)) for k in counts]
        return tuple(labels)

    def payoff_body(self, n: int, m: int) -> NDArray[np.float64]:
        tokens = self.tokens[self.i : -1]
        for tok in tokens:
            if tok.kind != _NUMBER:
                self.unexpected("payoffs", "a number", tok)
        if len(tokens) != n * m:
            self.fail(
                "payoffs",
                f"expected {_count(n * m, 'number')} "
                f"({_count(n, 'player')} x {_count(m, 'outcome')}); got {len(tokens)}",
            )
        values = [self.number(tok, "payoffs") for tok in tokens]
        self.i = len(self.tokens) - 1
        return np.asarray(values, dtype=np.float64).reshape(m, n)

    def outcome_body(self, n: int, ks: tuple[int, ...], m: int) -> NDArray[np.float64]:
        self.next()  # '{' opening the outcome list
        outcomes: list[list[float]] = [[0.0] * n]  # index 0: the null outcome
        while (tok := self.next()).kind == _LBRACE:
            arg = f"outcomes[{len(outcomes) - 1}]"
            self.expect(_TEXT, arg, "the quoted outcome name")
            row: list[float] = []
            previous = _TEXT
            while (tok := self.next()).kind != _RBRACE:
                before, previous = previous, tok.kind
                if tok.kind == _COMMA and before == _NUMBER:
                    continue  # one optional comma after each payoff
                if tok.kind != _NUMBER:
                    self.unexpected(arg, "a payoff (number) or '}'", tok)
                if len(row) == n:
                    self.fail(
                        arg,
                        f"expected {_count(n, 'payoff')} (one per player); got more at "
                        f"{self.where(tok)}",
                    )
                row.append(self.number(tok, arg))
            if len(row) != n:
                self.fail(
                    arg,
                    f"expected {_count(n, 'payoff')} (one per player); got {len(row)} at "
                    f"{self.where(tok)}",
                )
            outcomes.append(row)
        if tok.kind != _RBRACE:
            self.unexpected("outcomes", "'{' opening an outcome or '}' closing the list", tok)
        tokens = self.tokens[self.i : -1]
        n_defined = len(outcomes) - 1
        for j, tok in enumerate(tokens):
            if tok.kind != _NUMBER or not _INTEGER_RE.fullmatch(tok.text):
                self.unexpected(f"outcome indices[{j}]", "an integer outcome index", tok)
            if not 0 <= self.integer(tok, f"outcome indices[{j}]") <= n_defined:
                self.fail(
                    f"outcome indices[{j}]",
                    f"must be in [0, {n_defined}] (0 is the null outcome; {n_defined} listed); "
                    f"got {tok.text} at {self.where(tok)}",
                )
        if len(tokens) != m:
            self.fail(
                "outcome indices",
                f"expected {_count(m, 'number')} (one outcome index per profile of {_shape(ks)}); "
                f"got {len(tokens)}",
            )
        self.i = len(self.tokens) - 1
        index = np.asarray([int(tok.text) for tok in tokens], dtype=np.int64)
        return np.asarray(outcomes, dtype=np.float64)[index]


def _prod(values: Any) -> int:
    out = 1
    for v in values:
        out *= int(v)
    return out


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}" if k == 1 else f"{k} {noun}s"


def _shape(ks: tuple[int, ...]) -> str:
    return " x ".join(str(k) for k in ks)


# -- public API --------------------------------------------------------------------------------


def loads_nfg(text: str, *, limits: Limits | None = None) -> NormalFormGame:
    """Parse the text of a Gambit ``.nfg`` file (payoff or outcome version).

    Raises MechsolveInputError naming what is malformed and where (line, column), and
    ProblemTooLargeError when the declared game exceeds ``limits`` (checked before any payoff
    is read).
    """
    return _loads("loads_nfg", text, limits)


def read_nfg(
    path_or_text: str | os.PathLike[str], *, limits: Limits | None = None
) -> NormalFormGame:
    """Read a Gambit ``.nfg`` game from a file path, or from the file's text.

    A ``str`` whose first non-blank characters are ``NFG`` is taken as the text itself; any
    other ``str`` or ``os.PathLike`` is a path. Files are decoded as UTF-8 (a BOM is ignored),
    falling back to Latin-1 for legacy files.
    """
    fn = "read_nfg"
    if isinstance(path_or_text, str) and path_or_text.lstrip("\ufeff \t\r\n").startswith("NFG"):
        return _loads(fn, path_or_text, limits)
    if not isinstance(path_or_text, str | os.PathLike):
        raise MechsolveInputError(
            fn, "path_or_text", f"must be a path or the text of an .nfg file; got {path_or_text!r}"
        )
    path = Path(path_or_text)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MechsolveInputError(
            fn, "path_or_text", f"cannot be read as a file: {exc.strerror or exc}; got '{path}'"
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return _loads(fn, text, limits)


def _loads(function: str, text: Any, limits: Limits | None) -> NormalFormGame:
    if not isinstance(text, str):
        raise MechsolveInputError(
            function, "text", f"must be the text of an .nfg file (str); got {type(text).__name__}"
        )
    return _Parser(function, text.removeprefix("\ufeff"), resolve(limits)).game()


def _format_number(x: float) -> str:
    """Shortest decimal that reads back to ``x``, without exponent; integral values without a
    fraction. ``repr`` gives the shortest digits; its exponent form (``1e+16``, ``1.5e-07``),
    which Gambit refuses, is written out positionally: the same decimal value."""
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    text = repr(x)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text


_LABEL_RULE = (
    "Gambit 16.7 reads labels of printable ASCII characters and single spaces, not beginning "
    "or ending with a space"
)


def _check_label(function: str, argument: str, label: str) -> None:
    """Refuse a player or action label Gambit cannot read, saying what is wrong."""
    for j, ch in enumerate(label):
        if not " " <= ch <= "~":
            kind = "non-ASCII" if ord(ch) > 127 else "control"
            raise MechsolveInputError(
                function,
                argument,
                f"has a {kind} character {ch!r} at index {j} ({_LABEL_RULE}); got {label!r}",
            )
    if label.startswith(" ") or label.endswith(" "):
        where = "begins" if label.startswith(" ") else "ends"
        raise MechsolveInputError(
            function, argument, f"{where} with a space ({_LABEL_RULE}); got {label!r}"
        )
    if "  " in label:
        raise MechsolveInputError(
            function,
            argument,
            f"has two consecutive spaces at index {label.index('  ')} ({_LABEL_RULE}); "
            f"got {label!r}",
        )


def _check_title(function: str, title: str) -> None:
    """Refuse a title Gambit cannot read (pygambit decodes the file as ASCII)."""
    for j, ch in enumerate(title):
        if ord(ch) > 127:
            raise MechsolveInputError(
                function,
                "game.title",
                f"has a non-ASCII character {ch!r} at index {j} (Gambit 16.7 reads ASCII "
                f"titles only); got {_clip(repr(title), 60)}",
            )


def dumps_nfg(game: NormalFormGame | ArrayLike) -> str:
    """The Gambit ``.nfg`` text (payoff version) of a game (or of a payoff array); ``loads_nfg``
    reads it back equal.

    Strategy labels are written as label lists unless they are all Gambit's defaults
    (``"1"``, ``"2"``, ...), in which case the counts are written. Labels and a title that
    Gambit cannot read are refused (module docstring) with a MechsolveInputError naming them
    (``game.title``, ``game.players[i]``, ``game.actions[i][j]``).
    """
    return _dumps("dumps_nfg", game)


def _dumps(function: str, game: NormalFormGame | ArrayLike) -> str:
    g = as_game(function, game)
    _check_title(function, g.title)
    for i, name in enumerate(g.players):
        _check_label(function, f"game.players[{i}]", name)
    for i, labels in enumerate(g.actions):
        for j, label in enumerate(labels):
            _check_label(function, f"game.actions[{i}][{j}]", label)
    n, ks = g.n_players, g.num_actions
    defaults = all(
        labels == tuple(str(j + 1) for j in range(k))
        for labels, k in zip(g.actions, ks, strict=True)
    )
    if defaults:
        strategies = "{ " + " ".join(str(k) for k in ks) + " }"
    else:
        strategies = (
            "{ " + " ".join("{ " + " ".join(map(_quote, a)) + " }" for a in g.actions) + " }"
        )
    players = "{ " + " ".join(map(_quote, g.players)) + " }"
    lines = [f"NFG 1 R {_quote(g.title)} {players}", strategies, ""]
    table = g.payoffs.reshape((n, g.n_outcomes), order="F").T.tolist()
    lines.extend(" ".join(_format_number(x) for x in row) for row in table)
    return "\n".join(lines) + "\n"


def write_nfg(game: NormalFormGame | ArrayLike, path: str | os.PathLike[str]) -> None:
    """Write a game to ``path`` as a Gambit ``.nfg`` file (payoff version; ASCII, as the
    writer accepts only what Gambit reads; see :func:`dumps_nfg`)."""
    text = _dumps("write_nfg", game)
    try:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        raise MechsolveInputError(
            "write_nfg", "path", f"cannot be written: {exc.strerror or exc}; got '{path}'"
        ) from exc
