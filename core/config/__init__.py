"""Configuration: pydantic models, the YAML loader, cross-checks and hot reload.

Typical use::

    from core.config import load_config, validate_dir, ConfigWatcher, effective_url

    config = load_config("configs")          # raises ConfigError listing every problem
    problems = validate_dir("configs")       # the same lines, for `vigil validate-config`

See docs/config.md for every key, ``${VAR}`` expansion and hot reload behaviour.
"""

from core.config.loader import (
    LoadedConfig,
    camera_files,
    load_cameras,
    load_config,
    load_service,
    merge_ingest_defaults,
    validate_dir,
    watched_files,
)
from core.config.models import (
    Camera,
    CameraFile,
    IngestOptions,
    Line,
    Location,
    ScheduleWindow,
    Service,
    Zone,
)
from core.config.urls import display_url, effective_evidence_url, effective_url
from core.config.watch import CameraDiff, ConfigWatcher, diff_cameras

__all__ = [
    "Camera",
    "CameraDiff",
    "CameraFile",
    "ConfigWatcher",
    "IngestOptions",
    "Line",
    "LoadedConfig",
    "Location",
    "ScheduleWindow",
    "Service",
    "Zone",
    "camera_files",
    "diff_cameras",
    "display_url",
    "effective_evidence_url",
    "effective_url",
    "load_cameras",
    "load_config",
    "load_service",
    "merge_ingest_defaults",
    "validate_dir",
    "watched_files",
]
