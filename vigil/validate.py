"""``vigil validate-config``: every file in a config folder, one ``file:line`` per problem.

Cameras and the service file are checked by :mod:`core.config`; rules and watchlists by
the alert stage's loaders, with the camera ids and groups the rules may refer to.
"""

from __future__ import annotations

from pathlib import Path

from alerts.watchlist_io import load_watchlist_dir
from core.config import load_config, validate_dir
from core.errors import ConfigError, FatalError
from vigil.alerting import WATCHLIST_DIR, rules_for


def validate_all(directory: Path) -> list[str]:
    problems = validate_dir(directory)
    if problems:
        return problems  # rules name cameras: check them once the cameras load
    cameras = load_config(directory).cameras
    try:
        rules_for(directory, cameras)
    except ConfigError as exc:
        problems += exc.problems
    if (directory / WATCHLIST_DIR).is_dir():
        try:
            load_watchlist_dir(directory / WATCHLIST_DIR)
        except ConfigError as exc:
            problems += exc.problems
        except FatalError as exc:
            problems.append(f"{directory / WATCHLIST_DIR}: {exc}")
    return problems
