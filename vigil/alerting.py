"""Build and keep current the alert side of a node: store, watchlists, rules, service.

Rules (``rules.yaml``) and watchlists (``watchlists/*.csv``) live beside the camera files
in the config folder and are hot-reloaded like them: a bad edit is logged with its
``file:line`` problems and the running rules/watchlists stay in force.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

import httpx

from alerts.dispatch import Dispatcher
from alerts.lookup import watchlist_lookup
from alerts.rules import RuleEngine
from alerts.rules_config import Rule
from alerts.rules_default import DEFAULT_WATCHLIST_RULE, coverage_warning
from alerts.rules_loader import load_rules
from alerts.service import AlertService
from alerts.watchlist_io import WatchlistWatcher
from alerts.watchlist_service import WatchlistService
from core.bus import Bus
from core.clock import Clock
from core.config import LoadedConfig
from core.config.models import Camera
from core.errors import ConfigError, FatalError
from core.ports import AlertingStore
from core.supervise import every, start_supervised

log = logging.getLogger(__name__)
RULES_FILE = "rules.yaml"
WATCHLIST_DIR = "watchlists"


def rules_for(config_dir: Path, cameras: tuple[Camera, ...]) -> tuple[Rule, ...]:
    """The rules in ``config_dir/rules.yaml``; the built-in watchlist rule when the file is
    absent (alerts/rules_default.py says why)."""
    path = config_dir / RULES_FILE
    if not path.exists():
        return (DEFAULT_WATCHLIST_RULE,)
    return load_rules(path, [c.id for c in cameras], {c.group for c in cameras})


def warn_uncovered(rules: tuple[Rule, ...], watchlists: WatchlistService) -> None:
    """Log, at WARNING, the watchlist files whose entries no rule can alert on."""
    warning = coverage_warning(rules, watchlists.current().entries.values())
    if warning is not None:
        log.warning("%s", warning)


def watchlist_files(config_dir: Path) -> WatchlistWatcher | None:
    folder = config_dir / WATCHLIST_DIR
    return WatchlistWatcher(folder) if folder.is_dir() else None


@dataclass
class Alerting:
    service: AlertService
    watchlists: WatchlistService
    config_dir: Path
    rules_stamp: tuple[int, int] | None = None
    task: asyncio.Task[None] | None = None

    def _stamp(self) -> tuple[int, int] | None:
        path = self.config_dir / RULES_FILE
        if not path.exists():
            return None
        st = path.stat()
        return (st.st_mtime_ns, st.st_size)

    def reload_rules(self, cameras: tuple[Camera, ...]) -> None:
        try:
            rules = rules_for(self.config_dir, cameras)
        except ConfigError as exc:
            log.error("rules change rejected, the running rules stay:\n%s",
                      "\n".join(exc.problems))
            return
        self.service.engine.replace_rules(rules)
        self.service.engine.replace_cameras({c.id: c for c in cameras})
        log.info("rules loaded: %d", len(rules))
        warn_uncovered(rules, self.watchlists)

    async def watch(self, current: LoadedConfigRef, interval: float = 2.0) -> None:
        """Poll rules.yaml and the watchlist folder every ``interval`` seconds; each poll is
        guarded (core/supervise.py), so an unexpected error is logged and counted and the
        next poll still happens: hot reload never stops silently."""
        await every("alerting.watch", interval, lambda: self.poll(current), wait_first=True)

    async def poll(self, current: LoadedConfigRef) -> None:
        """Apply a changed rules.yaml and refresh the watchlists (valid changes only)."""
        stamp = self._stamp()
        if stamp != self.rules_stamp:
            self.rules_stamp = stamp
            self.reload_rules(current.config.cameras)
        try:
            await asyncio.to_thread(self.watchlists.poll)
        except FatalError as exc:
            log.error("watchlist refresh failed: %s", exc)


@dataclass
class LoadedConfigRef:
    """The config in force, swapped whole by the camera config watcher."""

    config: LoadedConfig


async def build_alerting(config_dir: Path, ref: LoadedConfigRef, store: AlertingStore, bus: Bus,
                         clock: Clock) -> Alerting:
    """Watchlists, rules, the service and the hot-reload task, without starting the
    service's loops: a hub starts those only while it holds the alerting lease
    (vigil/hub.py); :func:`start_alerting` starts them at once."""
    cameras = ref.config.cameras
    watchlists = await asyncio.to_thread(WatchlistService, store, watchlist_files(config_dir),
                                         clock)
    engine = RuleEngine(rules_for(config_dir, cameras), {c.id: c for c in cameras},
                        watchlist_lookup(watchlists.current), clock)
    service = AlertService(store, bus, engine, clock)
    if ref.config.service.dispatch.targets:
        service.dispatcher = Dispatcher(store, ref.config.service.dispatch, clock,
                                        httpx.AsyncClient(follow_redirects=False))
    alerting = Alerting(service, watchlists, config_dir)
    alerting.rules_stamp = alerting._stamp()
    alerting.task = start_supervised("alerting.watch", lambda: alerting.watch(ref))
    log.info("alerting: %d rules%s, %d watchlist entries", len(engine.rules),
             "" if (config_dir / RULES_FILE).exists() else
             f" (no {RULES_FILE}: the built-in {DEFAULT_WATCHLIST_RULE.id} rule)",
             len(watchlists.current().entries))
    warn_uncovered(engine.rules, watchlists)
    return alerting


async def start_alerting(config_dir: Path, ref: LoadedConfigRef, store: AlertingStore, bus: Bus,
                         clock: Clock) -> Alerting:
    alerting = await build_alerting(config_dir, ref, store, bus, clock)
    await alerting.service.start()
    return alerting


async def stop_alerting(alerting: Alerting) -> None:
    if alerting.task is not None:
        alerting.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await alerting.task
    await alerting.service.stop()
