"""mechsolve benchmarks: ``python -m benchmarks`` runs the suite (``--list``, ``--quick``).

Every ``benchmarks/bench_*.py`` module is part of the suite: a module that defines
``SUITE_CASES`` (a list of :class:`benchmarks.harness.Case`) contributes those cases, measured
side by side against their baselines by :mod:`benchmarks.harness`; any other module is run as
a standalone script (in the full suite or when named), and so is a module that sets
``SUITE_SCRIPT = True`` beside its cases. The scripts keep their own entry points
(``python benchmarks/bench_restaurant.py``).
"""
