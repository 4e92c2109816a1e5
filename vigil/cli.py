"""``vigil``: the command line. Each sub-command is a small function; wiring is in run.py."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from core.errors import ConfigError

DEFAULT_CONFIG = Path("configs")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigil", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a node: ingest, bus, console (embedded defaults)")
    run.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                     help="folder with service.yaml and cameras/ (default: configs)")
    run.add_argument("--bind", default=None, help="HOST:PORT for the console (127.0.0.1:8080)")

    check = sub.add_parser("validate-config", help="check a config folder; file:line per problem")
    check.add_argument("dir", nargs="?", type=Path, default=DEFAULT_CONFIG)
    return parser


def _validate(directory: Path) -> int:
    from core.config import validate_dir

    problems = validate_dir(directory)
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s) in {directory}", file=sys.stderr)
        return 1
    print(f"{directory}: configuration is valid")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "validate-config":
        return _validate(args.dir)
    if args.command == "run":
        from vigil.run import run_node

        try:
            return asyncio.run(run_node(args.config, args.bind))
        except ConfigError as exc:
            for line in exc.problems:
                print(line, file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
