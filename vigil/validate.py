"""``vigil validate-config``: every file in a config folder, one ``file:line`` per problem.

Cameras and the service file are checked by :mod:`core.config`; rules and watchlists by
the alert stage's loaders, with the camera ids and groups the rules may refer to.
"""

from __future__ import annotations

from pathlib import Path

from alerts.rules_default import coverage_warning
from alerts.watchlist_io import load_watchlist_dir
from core.config import load_config, validate_dir
from core.errors import ConfigError, FatalError
from vigil.alerting import RULES_FILE, WATCHLIST_DIR, rules_for


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


def validate_warnings(directory: Path) -> list[str]:
    """What is valid but probably not meant, for a folder :func:`validate_all` passed:
    watchlist files whose entries no rule in ``rules.yaml`` can alert on."""
    folder = directory / WATCHLIST_DIR
    if not folder.is_dir():
        return []
    rules = rules_for(directory, load_config(directory).cameras)
    warning = coverage_warning(rules, load_watchlist_dir(folder))
    return [f"{directory / RULES_FILE}: warning: {warning}"] if warning else []
