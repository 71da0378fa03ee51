"""Generate the Python gRPC stubs of proto/mechsolve/v1/*.proto into mechsolve/v1/.

    python scripts/gen_protos.py            # regenerate in place
    python scripts/gen_protos.py --out DIR  # generate into DIR (the staleness test uses this)

The generators are pinned in pyproject.toml's test extra (grpcio-tools==1.81.1, whose gencode
matches protobuf 6.33, the newest runtime OR-Tools 9.15 accepts; mypy-protobuf==5.1.0 for the
.pyi stubs). tests/test_protos.py fails when the committed stubs differ from a fresh run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE_DIR = Path("mechsolve") / "v1"


def proto_files() -> list[Path]:
    return sorted((PROTO_ROOT / PACKAGE_DIR).glob("*.proto"))


def generate(out: Path) -> list[Path]:
    """Run protoc (grpc_tools) with the python, grpc and mypy plugins; return the files made."""
    import grpc_tools
    from grpc_tools import protoc  # the pinned generator (test extra)

    plugin_dir = Path(sys.executable).parent
    mypy_plugin = plugin_dir / "protoc-gen-mypy"
    mypy_grpc_plugin = plugin_dir / "protoc-gen-mypy_grpc"
    for plugin in (mypy_plugin, mypy_grpc_plugin):
        if not plugin.exists():
            raise SystemExit(f"{plugin.name} not found next to {sys.executable}: install '.[test]'")
    out.mkdir(parents=True, exist_ok=True)
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--plugin=protoc-gen-mypy={mypy_plugin}",
        f"--plugin=protoc-gen-mypy_grpc={mypy_grpc_plugin}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *[str(p.relative_to(PROTO_ROOT)) for p in proto_files()],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    made = sorted(p for p in (out / PACKAGE_DIR).iterdir() if p.suffix in (".py", ".pyi"))
    return made


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, default=None, help="output root (default: the checkout)")
    args = ap.parse_args()
    if args.out is not None:
        made = generate(args.out)
    else:
        tmp = ROOT / "build" / "protos"
        shutil.rmtree(tmp, ignore_errors=True)
        made = generate(tmp)
        dest = ROOT / PACKAGE_DIR
        for old in dest.glob("*_pb2*.py*"):
            old.unlink()
        for f in made:
            shutil.copy2(f, dest / f.name)
        shutil.rmtree(tmp, ignore_errors=True)
    for f in made:
        print(f.name)


if __name__ == "__main__":
    main()
