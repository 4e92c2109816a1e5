"""Demux-only connection to a camera's evidence (main) stream, feeding its packet ring.

Used only when a camera has an ``evidence_url``; otherwise the decoding connection feeds the
ring itself. The recorder never decodes. It reconnects on its own with the shared backoff,
and relies on FFmpeg's ``timeout`` (about twice ``read_timeout``) to leave a silent server:
a stalled evidence stream costs clip coverage, not analytics, so it does not need the
decode path's independent watchdog. Its problems are logged, not published as camera state.
"""

from __future__ import annotations

import logging
import threading

import av.error

from core.clock import Clock
from core.errors import SourceError
from core.redact import redact_url
from core.retry import Backoff
from ingest.decode import open_input, video_stream
from ingest.errors import SourceRefused, map_av_error
from ingest.ring import PacketRing
from ingest.source import SourceSpec, is_file

log = logging.getLogger(__name__)


class EvidenceRecorder:
    """One daemon thread: open, demux into the ring, back off, repeat until stopped."""

    def __init__(self, spec: SourceSpec, ring: PacketRing, clock: Clock,
                 backoff: Backoff, name: str = "evidence") -> None:
        if is_file(spec.url):
            raise ValueError("evidence_url must be a live stream URL, not a file")
        self.spec = spec
        self.ring = ring
        self._clock = clock
        self._backoff = backoff
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.connects = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Ask the thread to finish; it may outlive ``timeout`` while blocked in FFmpeg."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            connects = self.connects
            try:
                self._record()
                problem: SourceError = SourceError("evidence stream ended")
            except SourceError as exc:
                problem = exc
            if self._stop.is_set():
                return
            attempt = 0 if self.connects > connects else attempt + 1
            delay = (self._backoff.cap if isinstance(problem, SourceRefused)
                     else self._backoff.delay(attempt))
            log.warning("%s: %s; evidence reconnect in %.1f s",
                        redact_url(self.spec.url), problem, delay)
            self._stop.wait(delay)

    def _record(self) -> None:
        container = open_input(self.spec, live=True)
        try:
            stream = video_stream(container, self.spec.url)
            self.ring.attach(stream)
            self.connects += 1
            for packet in container.demux(stream):
                if self._stop.is_set():
                    return
                self.ring.add(packet, self._clock.now())
        except (av.error.FFmpegError, OSError) as exc:
            raise map_av_error(exc, self.spec.url) from exc
        finally:
            container.close()
