"""Normal-form games, named fixtures, welfare functions and Gambit ``.nfg`` files (SPEC 1)."""

if __name__ != "mechsolve.solver.games":  # pragma: no cover - the guard itself
    raise ImportError(f"import mechsolve.solver.games, not {__name__!r} (one copy of its types)")


from .files import read_game, write_game
from .nfg import dumps_nfg, loads_nfg, read_nfg, write_nfg
from .normal_form import (
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
from .welfare import WELFARE_NAMES, Welfare, WelfareKind, make_welfare

__all__ = [
    "FIXTURES",
    "WELFARE_NAMES",
    "NormalFormGame",
    "Welfare",
    "WelfareKind",
    "as_game",
    "asymmetric_bos",
    "battle_of_the_sexes",
    "chicken",
    "dumps_nfg",
    "fixture",
    "greed_fear_game",
    "loads_nfg",
    "make_welfare",
    "prisoners_dilemma",
    "public_goods_game",
    "random_game",
    "read_game",
    "read_nfg",
    "seed000_prisoners_dilemma",
    "stag_hunt",
    "write_game",
    "write_nfg",
]
