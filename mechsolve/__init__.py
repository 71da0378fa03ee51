"""mechsolve: optimization-based mechanism solver service."""

__version__ = "0.1.0"
