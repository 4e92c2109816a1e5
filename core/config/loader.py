"""Load a configuration directory: ``service.yaml`` plus ``cameras/*.yaml``.

Layout::

    DIR/service.yaml          optional; every key has a default
    DIR/cameras/*.yaml|*.yml  each holds ``cameras:`` with one or more cameras

Loading never stops at the first problem: YAML syntax, ``${VAR}`` expansion, pydantic
validation and the cross-checks of :mod:`core.config.checks` all run for every file, and
:class:`ConfigError` carries every ``file:line: key.path: message`` line, so one run of
``vigil validate-config`` shows everything to fix. File names are shown as given (a relative
directory gives relative names), which is what editors and CI annotations expect.

Nothing here logs a URL or any expanded value: they may carry passwords.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from core.config.checks import Origin, check_camera, check_duplicate_ids
from core.config.envvars import expand_env
from core.config.models import Camera, CameraFile, IngestOptions, Service
from core.config.problems import KeyPath, Problem
from core.config.yamlpos import YamlDoc, YamlProblems, read_yaml
from core.errors import ConfigError

log = logging.getLogger(__name__)

PathArg = str | os.PathLike[str]
SERVICE_FILE = "service.yaml"
CAMERAS_DIR = "cameras"
CAMERA_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A whole valid configuration. ``sources`` maps camera id to the file defining it."""

    service: Service
    cameras: tuple[Camera, ...]
    sources: Mapping[str, Path]

    def camera(self, camera_id: str) -> Camera:
        """The camera with this id; ``KeyError`` if there is none."""
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        raise KeyError(camera_id)


@dataclass(frozen=True, slots=True)
class _Placed:
    camera: Camera
    origin: Origin


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One file after YAML and ``${VAR}`` expansion; ``doc`` is ``None`` if it did not parse."""

    doc: YamlDoc | None
    data: object
    problems: list[Problem]

    def expansion_paths(self) -> set[KeyPath]:
        return {p.path for p in self.problems}


def camera_files(directory: PathArg) -> list[Path]:
    """``DIR/cameras/*.yaml|*.yml`` sorted by name; hidden files (editor swap/backup) skipped."""
    folder = Path(directory) / CAMERAS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix in CAMERA_SUFFIXES and not p.name.startswith(".") and p.is_file())


def watched_files(directory: PathArg) -> list[Path]:
    """Every file whose content defines the configuration (``service.yaml`` even if absent)."""
    return [Path(directory) / SERVICE_FILE, *camera_files(directory)]


def merge_ingest_defaults(camera: Camera, defaults: IngestOptions) -> Camera:
    """Service ``defaults.ingest`` under the camera's ``ingest``: keys the camera file sets
    win, every other key comes from the service defaults (not from the model defaults)."""
    own = camera.ingest.model_dump(exclude_unset=True)
    merged = IngestOptions.model_validate({**defaults.model_dump(exclude_unset=True), **own})
    return camera.model_copy(update={"ingest": merged})


def load_service(path: PathArg, env: Mapping[str, str] | None = None) -> Service:
    """Load one ``service.yaml``; a file that does not exist gives the defaults."""
    service, problems = _service(Path(path), _env(env))
    if problems:
        raise ConfigError([str(p) for p in problems])
    return service


def load_cameras(directory: PathArg, defaults: IngestOptions | None = None,
                 env: Mapping[str, str] | None = None) -> list[Camera]:
    """Load ``DIR/cameras/*.yaml`` with ``defaults`` merged under each camera's ``ingest``."""
    placed, problems = _cameras(Path(directory), defaults or IngestOptions(), _env(env))
    if problems:
        raise ConfigError([str(p) for p in problems])
    return [p.camera for p in placed]


def load_config(directory: PathArg, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Load and cross-check a whole directory; :class:`ConfigError` lists every problem."""
    root = Path(directory)
    if not root.is_dir():
        reason = "is not a directory" if root.exists() else "configuration directory not found"
        raise ConfigError([str(Problem(str(root), None, (), reason))])
    values = _env(env)
    service, problems = _service(root / SERVICE_FILE, values)
    placed, camera_problems = _cameras(root, service.defaults.ingest, values)
    problems += camera_problems
    if problems:
        raise ConfigError([str(p) for p in problems])
    sources = {p.camera.id: Path(p.origin.file) for p in placed}
    log.debug("loaded %d camera(s) from %s", len(placed), root)
    return LoadedConfig(service, tuple(p.camera for p in placed), MappingProxyType(sources))


def validate_dir(directory: PathArg, env: Mapping[str, str] | None = None) -> list[str]:
    """Every problem line of ``directory`` (``file:line: key.path: message``); empty if valid."""
    try:
        load_config(directory, env)
    except ConfigError as exc:
        return exc.problems
    return []


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _parse(path: Path, env: Mapping[str, str]) -> _Parsed:
    try:
        doc = read_yaml(path, str(path))
    except YamlProblems as exc:
        return _Parsed(None, None, exc.located)
    data, findings = expand_env(doc.data, env)
    problems = [Problem(str(path), doc.line_of(where), where, msg) for where, msg in findings]
    return _Parsed(doc, data, problems)


def _service(path: Path, env: Mapping[str, str]) -> tuple[Service, list[Problem]]:
    if not path.exists():
        return Service(), []
    parsed = _parse(path, env)
    if parsed.doc is None:
        return Service(), parsed.problems
    try:
        return Service.model_validate({} if parsed.data is None else parsed.data), parsed.problems
    except ValidationError as exc:
        skip = parsed.expansion_paths()
        return Service(), parsed.problems + _validation_problems(exc, parsed.doc, skip, ())


def _cameras(root: Path, defaults: IngestOptions,
             env: Mapping[str, str]) -> tuple[list[_Placed], list[Problem]]:
    placed: list[_Placed] = []
    problems: list[Problem] = []
    files = camera_files(root)
    for path in files:
        file_placed, file_problems = _camera_file(path, defaults, env)
        placed += file_placed
        problems += file_problems
    for origin, message in check_duplicate_ids([p.origin for p in placed]):
        problems.append(Problem(origin.file, origin.line, origin.path, message))
    rank = {str(path): index for index, path in enumerate(files)}
    return placed, sorted(problems, key=lambda p: (rank.get(p.file, 0), p.line or 0))


def _camera_file(path: Path, defaults: IngestOptions,
                 env: Mapping[str, str]) -> tuple[list[_Placed], list[Problem]]:
    """Validate the file's shape, then each camera on its own, so one bad camera does not
    hide the cross-check and duplicate-id problems of its valid neighbours."""
    parsed = _parse(path, env)
    if parsed.doc is None or parsed.data is None:  # unparsable, or empty: no cameras
        return [], parsed.problems
    doc, data = parsed.doc, parsed.data
    raws: list[object] = []
    if isinstance(data, dict) and isinstance(data.get("cameras"), list):
        raws, data = data["cameras"], {**data, "cameras": []}
    problems = list(parsed.problems)
    try:
        CameraFile.model_validate(data)
    except ValidationError as exc:
        problems += _validation_problems(exc, doc, parsed.expansion_paths(), ())
    placed: list[_Placed] = []
    for index, raw in enumerate(raws):
        prefix: KeyPath = ("cameras", index)
        try:
            camera = merge_ingest_defaults(Camera.model_validate(raw), defaults)
        except ValidationError as exc:
            problems += _validation_problems(exc, doc, parsed.expansion_paths(), prefix)
            continue
        problems += _check_problems(camera, doc, prefix, parsed.expansion_paths())
        id_path: KeyPath = (*prefix, "id")
        placed.append(_Placed(camera, Origin(camera.id, str(path), doc.line_of(id_path), id_path)))
    return placed, problems


def _check_problems(camera: Camera, doc: YamlDoc, prefix: KeyPath,
                    skip: set[KeyPath]) -> list[Problem]:
    """Cross-check findings at their lines, except on values whose ``${VAR}`` failed."""
    problems: list[Problem] = []
    for where, message in check_camera(camera):
        full: KeyPath = (*prefix, *where)
        if full not in skip:
            problems.append(Problem(doc.source, doc.line_of(full), full, message))
    return problems


def _validation_problems(exc: ValidationError, doc: YamlDoc, skip: set[KeyPath],
                         prefix: KeyPath) -> list[Problem]:
    """Pydantic errors at their lines; a value whose ``${VAR}`` failed is reported once."""
    source = doc.source
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        where: KeyPath = (*prefix, *error["loc"])
        if where not in skip:
            problems.append(Problem(source, doc.line_of(where), where, pydantic_message(error)))
    return problems


def pydantic_message(error: ErrorDetails) -> str:
    """Pydantic's message, minus its "Value error, " prefix for our own validators, plus a
    hint when YAML turned an unquoted value (``id: 3402...``, ``password: 123456``) into a
    number or boolean where text was expected."""
    ctx = error.get("ctx") or {}
    if error["type"] == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if error["type"] == "string_type" and isinstance(error.get("input"), int | float | bool):
        return f"{error['msg']}; put the value in quotes"
    return error["msg"]
