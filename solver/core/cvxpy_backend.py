"""Importing cvxpy (the convex backend, used for the Nash welfare's exponential cone).

cvxpy 1.8 (the newest release compatible with the highspy OR-Tools 9.15 bundles) does not know
OR-Tools 9.15 for its GLOP/PDLP interfaces and logs a warning about it on import. mechsolve
does not use those interfaces, so that one warning is filtered out; every other cvxpy message
passes.
"""

from __future__ import annotations

import logging
from types import ModuleType


class _UnknownOrtoolsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not ("importing solver" in msg and "version of ortools" in msg)


def cvxpy() -> ModuleType:
    """The cvxpy module, imported with the OR-Tools version warning filtered."""
    logger = logging.getLogger("__cvxpy__")
    if not any(isinstance(f, _UnknownOrtoolsFilter) for f in logger.filters):
        logger.addFilter(_UnknownOrtoolsFilter())
    import cvxpy as cp

    return cp
