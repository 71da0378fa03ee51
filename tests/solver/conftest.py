"""Hypothesis profile for the solver tests: deterministic runs (the same examples every run), no
deadline (a shared CI machine is slow at times) and no too-slow/too-large health checks."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "mechsolve",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("mechsolve")
