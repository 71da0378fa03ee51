"""``mechsolve.solver``: the pure library (games -> formulations -> backends -> results).

Grouped by capability family: ``core`` (errors, results, limits, validation, backends),
``games`` (normal-form games, welfare functions, Gambit files), ``mediators`` (normal-form
mediators), ``structured`` (restaurant and matching games), ``auctions``.
"""

if __name__ != "mechsolve.solver":  # pragma: no cover - the guard itself
    raise ImportError(
        f"this folder is the package mechsolve.solver; import it as that, not as {__name__!r} "
        "(a second copy of its modules would hold different enum and class objects)"
    )
