"""The ``mechsolve`` command line.

Each subcommand lives in its own module ``mechsolve/cli/<name>.py`` exposing
``register(subparsers)``, which adds a parser whose ``func`` default is
``run(args: argparse.Namespace) -> int`` (the exit code). Heavy imports happen inside ``run``
so that ``mechsolve --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mechsolve import __version__

SUBCOMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "simulate",
    "serve",
    "solve",
    "batch",
    "equilibrium",
    "auction",
    "policies",
)
"""Modules of this package that register subcommands, in help order."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mechsolve",
        description="Optimization-based mechanism solver service.",
    )
    parser.add_argument("--version", action="version", version=f"mechsolve {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(f"mechsolve.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    from mechsolve.client.errors import MechsolveRpcError
    from mechsolve.solver.core.errors import MechsolveInputError

    try:
        return int(func(args))
    except MechsolveInputError as exc:  # the input: exit 2
        print(f"mechsolve {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except MechsolveRpcError as exc:  # the server (unreachable, busy, deadline): exit 1
        print(f"mechsolve {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
