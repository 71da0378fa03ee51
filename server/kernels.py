"""Imported once by the solve workers' forkserver (:data:`.workers.PRELOAD`): compiles the
solver's numba kernels there (or loads them from numba's cache), so that every forked worker
starts with them instead of compiling on its first call (seconds: longer than many calls'
deadlines, and a worker killed at its deadline would never finish compiling).

The forkserver exits when the server does (its pipe closes). With LLVM loaded, the
interpreter's teardown then took over half a second on a loaded machine (measured: the
forkserver outlived the server by 0.5-3.5 s); it holds nothing to flush, so it ends at once
(the exit handler registered last runs first; forked workers end by ``os._exit`` and never
run it)."""

import atexit
import os

from mechsolve.solver.structured.policy_enumeration import warm_up

warm_up()
atexit.register(os._exit, 0)
