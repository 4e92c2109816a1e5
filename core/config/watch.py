"""Hot reload: notice edited configuration files and apply them without a restart.

Polling, not inotify: it needs no new dependency, works the same on every OS, on network
and container-mounted volumes, and with editors that save by writing a temp file and
renaming it. Every :meth:`ConfigWatcher.poll` reads ``service.yaml`` and
``cameras/*.yaml|*.yml`` and compares their SHA-256 with the last poll (files are small; a
content hash also ignores ``touch`` and catches same-size edits within one mtime tick).

A change reloads the *whole* directory, because defaults and duplicate-id checks span
files. A valid result becomes :attr:`ConfigWatcher.current` and ``on_change(config, diff)``
is called; an invalid one calls ``on_error(problems)`` once and keeps the running config
(docs/architecture.md, rule 7). Fixing the files is just another change. ``poll()`` is public so
tests drive it deterministically; :meth:`ConfigWatcher.start` only calls it on a timer.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.config.loader import LoadedConfig, PathArg, load_config, watched_files
from core.config.models import Camera
from core.errors import ConfigError

log = logging.getLogger(__name__)

Fingerprint = Mapping[str, str]
"""File name -> SHA-256 of its content, for every watched file that exists."""


@dataclass(frozen=True, slots=True)
class CameraDiff:
    """Camera ids (sorted) that appeared, disappeared, or whose settings differ."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def diff_cameras(old: Sequence[Camera], new: Sequence[Camera]) -> CameraDiff:
    """Compare by camera id; ``changed`` means any setting differs (model inequality),
    including ingest values inherited from the service defaults."""
    before = {c.id: c for c in old}
    after = {c.id: c for c in new}
    return CameraDiff(
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=tuple(sorted(i for i in after.keys() & before.keys() if after[i] != before[i])),
    )


def fingerprint(directory: PathArg) -> dict[str, str]:
    """Hash every watched file; a file that vanishes while being read is simply absent."""
    result: dict[str, str] = {}
    for path in watched_files(directory):
        try:
            result[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            continue
        except OSError as exc:  # unreadable: make it a change so the reload reports it
            result[str(path)] = f"unreadable: {exc.strerror}"
    return result


OnChange = Callable[[LoadedConfig, CameraDiff], None]
OnError = Callable[[list[str]], None]


class ConfigWatcher:
    """Keeps :attr:`current` in step with a configuration directory.

    The constructor loads the directory and raises :class:`ConfigError` if it is invalid:
    a service must not start on a bad config, only keep running on its last good one.
    """

    def __init__(self, directory: PathArg, on_change: OnChange, on_error: OnError,
                 interval: float = 1.0) -> None:
        self.directory = Path(directory)
        self.interval = interval
        self._on_change, self._on_error = on_change, on_error
        self._seen = fingerprint(self.directory)  # before loading: never miss an edit
        self._current = load_config(self.directory)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> LoadedConfig:
        """The last valid configuration."""
        return self._current

    def poll(self) -> bool:
        """Check the files once; reload if they changed. True if a new config was applied."""
        with self._lock:
            seen = fingerprint(self.directory)
            if seen == self._seen:
                return False
            self._seen = seen
            try:
                loaded = load_config(self.directory)
            except ConfigError as exc:
                log.warning("config reload rejected, keeping the running config: %d problem(s)"
                            " in %s", len(exc.problems), self.directory)
                self._on_error(exc.problems)
                return False
            return self._apply(loaded)

    def _apply(self, loaded: LoadedConfig) -> bool:
        old, self._current = self._current, loaded
        diff = diff_cameras(old.cameras, loaded.cameras)
        log.info("config reloaded from %s: %d added, %d removed, %d changed", self.directory,
                 len(diff.added), len(diff.removed), len(diff.changed))
        if old.service.model_copy(update={"defaults": loaded.service.defaults}) != loaded.service:
            log.warning("service settings other than defaults changed in %s; hot reload "
                        "applies camera changes only, restart to apply them", self.directory)
        self._on_change(loaded, diff)
        return True

    def start(self) -> None:
        """Poll every ``interval`` seconds on a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="config-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the polling thread (waits for a poll in progress to finish)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # a failing callback must not end hot reload for good
                log.exception("config watcher: poll of %s failed", self.directory)
