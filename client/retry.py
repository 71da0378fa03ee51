"""Retry with exponential backoff and jitter, for ``UNAVAILABLE`` only (the server was not
reachable or is restarting; any other status is an answer and is never retried)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from mechsolve.solver.core.errors import MechsolveInputError


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` tries in all; before try k+1 wait ``min(max_backoff,
    initial_backoff * multiplier**k)`` scaled by a uniform jitter in [0.5, 1]."""

    max_attempts: int = 5
    initial_backoff: float = 0.05
    max_backoff: float = 2.0
    multiplier: float = 2.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise MechsolveInputError(
                "RetryPolicy", "max_attempts", f"must be >= 1; got {self.max_attempts}"
            )
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise MechsolveInputError(
                "RetryPolicy",
                "initial_backoff",
                "backoffs must be >= 0 and multiplier >= 1; got "
                f"{self.initial_backoff}, {self.max_backoff}, {self.multiplier}",
            )

    def delays(self) -> Iterator[float]:
        """The waits between consecutive attempts (``max_attempts - 1`` of them)."""
        rng = random.Random(self.seed)
        for k in range(self.max_attempts - 1):
            base = min(self.max_backoff, self.initial_backoff * self.multiplier**k)
            yield base * rng.uniform(0.5, 1.0)
