"""``mechsolve.server``: transport only (app, config, auth, health, deadlines, logs, the one
generic servicer); no mechanism logic."""

if __name__ != "mechsolve.server":  # pragma: no cover - the guard itself
    raise ImportError(
        f"this folder is the package mechsolve.server; import it as that, not as {__name__!r} "
        "(a second copy of its modules would hold different enum and class objects)"
    )
