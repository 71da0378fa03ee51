"""``mechsolve batch INPUT OUTPUT``: solve recorded problems offline (mechsolve.batch)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EPILOG = """\
A record is a JSON object (a line of .jsonl, a row of .parquet): "id" (default: its position),
"rpc" (an RPC such as Mediate, OptimalMenu; default --rpc), "game_file" (a .nfg, .json or
.npz game, relative to the input's folder; default --game) and the request's fields in proto3
JSON form, at the top level or under "request". Example line:
  {"id": 7, "rpc": "Mediate", "game_file": "game.nfg", "actions": [0, 2, 1], "delegate": [true, true, false]}
Each output row: id, rpc, status (OK or the service's status code), error (the service's
message), seconds, result (the solver's result as plain JSON; non-finite numbers as null).
A killed run resumes when the same command is run again (OUTPUT.parts/ holds what is done).
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "batch",
        help="solve recorded problems (JSON lines or Parquet), resumably",
        description="Solve every record of INPUT (one request of any mechsolve RPC per record) "
        "into OUTPUT, one row per record in input order. Records of Mediate that share a "
        "game and options are solved vectorized (MediateBatch).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", type=Path, help="records: .jsonl / .ndjson / .parquet")
    p.add_argument(
        "output", type=Path, nargs="?", help="results: .jsonl / .parquet (any format of the two)"
    )
    p.add_argument("--rpc", help="the RPC of records that name none (e.g. Mediate)")
    p.add_argument("--game", help="the game file of records that give no game (or fixture:NAME)")
    p.add_argument(
        "--chunk-size",
        type=int,
        default=4096,
        help="records per chunk: the unit of work and of resuming (default 4096)",
    )
    p.add_argument("--time-limit", type=float, help="solver seconds per record (default: none)")
    p.add_argument(
        "--engine",
        choices=("local", "ray", "server"),
        help="local process pool (default), Ray cluster (--address, or a local Ray), or a "
        "mechsolve server (--address; implied by --address alone)",
    )
    p.add_argument(
        "--processes", type=int, help="local processes, or server threads (default: the cores)"
    )
    p.add_argument("--address", help="the Ray cluster (--engine ray) or mechsolve server")
    p.add_argument(
        "--restart", action="store_true", help="drop the parts of an earlier run and start over"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check every record (JSON, RPC, fields, sizes) and report errors; solve nothing",
    )
    p.add_argument(
        "--verify",
        type=int,
        default=0,
        metavar="N",
        help="afterwards, re-solve N random records one by one in-process and compare",
    )
    p.add_argument("--seed", type=int, default=0, help="of --verify's sample (default 0)")
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="problem-size limit, as for mechsolve serve",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mechsolve.batch import BatchJob
    from mechsolve.batch import run as run_batch
    from mechsolve.solver.core.errors import MechsolveError, MechsolveInputError

    from .serve import parse_limits

    engine = args.engine or ("server" if args.address else "local")
    job = BatchJob(
        input=args.input,
        output=args.output,
        rpc=args.rpc,
        game=args.game,
        chunk_size=args.chunk_size,
        time_limit=args.time_limit,
        engine=engine,
        processes=args.processes,
        address=args.address,
        restart=args.restart,
        dry_run=args.dry_run,
        verify=args.verify,
        seed=args.seed,
        progress=not args.no_progress,
        limits=parse_limits(args.limit, "batch"),
    )
    try:
        summary = run_batch(job)
    except MechsolveInputError:
        raise
    except MechsolveError as exc:
        print(f"mechsolve batch: error: {exc}", file=sys.stderr)
        return 1
    print(summary.text())
    if summary.mismatches:
        return 1
    if args.dry_run and sum(v for k, v in summary.counts.items() if k != "OK"):
        return 1
    return 0
