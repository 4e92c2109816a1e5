"""One connection attempt of a camera worker, decoding in its own daemon thread.

A session is disposable: when the worker's watchdog decides it is stuck it *abandons* it
(raises the source's close flag and stops listening to it) and starts a fresh one, without
waiting. The abandoned thread leaves by itself once FFmpeg returns (at the latest when the
``timeout`` option fires); it is a daemon thread so it can never keep the process alive.
The session only records facts (frames, last frame time, how it ended); the worker's control
thread makes every state decision from them.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Generator

from core.clock import Clock
from core.errors import SourceError
from core.redact import redact_url
from ingest.source import FrameSource, Picture

log = logging.getLogger(__name__)


class Session:
    """Facts about one connection, written by its thread, read by the control thread."""

    def __init__(self, source: FrameSource, url: str, clock: Clock,
                 on_picture: Callable[[Session, Picture], None],
                 on_end: Callable[[], None]) -> None:
        self.source = source
        self.url = url
        self._clock = clock
        self._on_picture = on_picture
        self._on_end = on_end
        self.started = clock.monotonic()
        self.frames = 0
        self.last_frame: float | None = None
        self.error: SourceError | None = None
        self.ended = False
        self.abandoned = False
        self._thread: threading.Thread | None = None

    def start(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def abandon(self) -> None:
        """Stop listening and ask the source to stop; returns at once."""
        self.abandoned = True
        self.source.close()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the thread; True when it has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _run(self) -> None:
        pictures = self.source.frames()
        try:
            for picture in pictures:
                if self.abandoned:
                    break
                self.frames += 1
                self.last_frame = self._clock.monotonic()
                self._on_picture(self, picture)
        except SourceError as exc:
            self.error = exc
        except Exception as exc:
            self.error = self._unexpected(exc)
        finally:
            self._close(pictures)
            self.ended = True
            self._on_end()

    def _close(self, pictures: Generator[Picture, None, None]) -> None:
        try:
            pictures.close()
        except Exception as exc:
            log.warning("%s: closing the source failed: %s", redact_url(self.url),
                        type(exc).__name__)

    def _unexpected(self, exc: Exception) -> SourceError:
        """A bug, not a camera problem: log it (URL redacted) and treat it as a disconnect."""
        text = str(exc).replace(self.url, redact_url(self.url))
        log.error("%s: unexpected %s in the decode thread: %s\n%s", redact_url(self.url),
                  type(exc).__name__, text, "".join(traceback.format_tb(exc.__traceback__)))
        return SourceError(f"{redact_url(self.url)}: unexpected {type(exc).__name__}")
