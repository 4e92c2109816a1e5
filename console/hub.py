"""The WebSocket hub: one ordered stream of alert events, fanned out to every client.

**Where order comes from.** The store's ``alert_events`` log (gap-free ids, committed in
order; see :mod:`core.store.events`) is the single source: the hub reads
``events_after(last)`` whenever a bus message on ``alerts`` / ``alerts.transitions`` wakes
it, and at least every ``poll_every`` second even if the bus is silent or down. The bus
only says "look now"; it never carries an event to a client. So every console process
behind a load balancer sends the same ids for the same events, and a client can resume on
any of them.

**Per client.** A :class:`Subscriber` has a bounded queue of ready-to-send frames and a
``cursor``: the id of the last event queued for it. While *live*, the hub appends each new
event whose id is ``cursor + 1``. When the queue is full, or a client (re)connects with an
old ``last_id``, the client is *catching up*: a task of its own reads the event log from
``cursor`` in pages, queuing as room allows, while the hub skips it. Catch-up turns live
again only when its cursor has reached the hub's ``last_id`` — checked and switched with no
``await`` in between, so no event falls between the two paths; events the hub then offers
that are ``<= cursor`` are dropped. Nothing is lost and nothing is sent twice, and a slow
client costs one queue of memory, not a backlog.

**Backpressure (docs/architecture.md rule 4).** A client whose queue stays full for
``stall_after`` seconds (it is not reading) is disconnected with close code 4008; it
reconnects with its last id and replays from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from console.framequeue import FrameQueue, Frames
from console.registry import CameraRegistry
from console.settings import ConsoleSettings
from console.views import alert_json, timeline_json
from core import topics
from core.bus import Bus
from core.clock import Clock
from core.errors import BusError, RetryableError
from core.ports import EventFeedStore
from core.store.events import EventDetail
from core.topics import Topic

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4008
CLOSE_UNAUTHORIZED = 4401
CLOSE_GOING_AWAY = 1001
BATCH = 500


@dataclass(slots=True)
class WsStats:
    """Counters for ``/metrics`` (rule 12)."""

    clients: int = 0
    connections: int = 0
    sent: int = 0
    """Envelopes sent."""
    messages: int = 0
    """WebSocket messages written (a batch of envelopes counts once)."""
    reads: int = 0
    """Reads of the event log by the hub's fan-out loop (empty ones included)."""
    replayed: int = 0
    dropped_clients: int = 0
    last_id: int = 0


def envelope(kind: str, event_id: int | None, data: Any, replay: bool = False) -> str:
    """The one frame shape: ``{"kind", "id", "data", "replay"}`` (docs/console-api.md)."""
    return json.dumps({"kind": kind, "id": event_id, "data": data, "replay": replay},
                      ensure_ascii=True, separators=(",", ":"))


def event_envelope(detail: EventDetail, settings: ConsoleSettings, replay: bool,
                   read_at: float | None = None) -> str:
    """``alert`` for a new alert (data: the alert), else the timeline kind (``transition``,
    ``escalation``, ``dispatch``) with data ``{alert, transition}``.

    ``read_at`` (when this console read the event to send it) stands in for a ``pushed_at``
    the store does not have yet. The ``raised`` event commits with the alert, and the
    publisher stamps ``pushed_at`` only after its bus publish returns, in a later
    transaction; that very publish is what wakes the hub, so a live alert was nearly always
    read before its stamp and went out with ``pushed_at: null``. Whichever is set, it is
    the moment the alert went out to the consoles."""
    record = detail.record
    if record.pushed_at is None and read_at is not None:
        record = replace(record, pushed_at=read_at)
    alert = alert_json(record, settings.sla)
    event_id = detail.event.id
    if detail.event.kind == "raised":
        return envelope("alert", event_id, alert, replay)
    data = {"alert": alert, "transition": timeline_json(detail.entry)}
    return envelope(detail.event.kind, event_id, data, replay)


class Subscriber:
    """One connected client's queue and position in the event log."""

    def __init__(self, queue_size: int) -> None:
        self.queue = FrameQueue(queue_size)
        self.cursor = 0
        self.replay_until = 0
        """Events up to this id happened before the client's hello: sent as ``replay``."""
        self.live = False
        self.full_since: float | None = None
        self.resend_cameras = False
        self.catching_up: asyncio.Task[None] | None = None
        self.room = asyncio.Event()
        self.gone = asyncio.Event()
        self.close_code = 0
        self.close_reason = ""

    def offer(self, frame: str) -> bool:
        return self.queue.offer(frame)

    def close(self, code: int, reason: str) -> None:
        """Ask the connection to end with ``code`` (the WebSocket handler does it)."""
        if not self.gone.is_set():
            self.close_code, self.close_reason = code, reason
            self.gone.set()


class Hub:
    def __init__(self, store: EventFeedStore, cameras: CameraRegistry, settings: ConsoleSettings,
                 clock: Clock) -> None:
        self.store, self.cameras, self.settings, self.clock = store, cameras, settings, clock
        self.last_id = 0
        self.stats = WsStats()
        self.subscribers: set[Subscriber] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, bus: Bus | None) -> None:
        """Start from the log's current end; follow the bus (if any) and poll."""
        self.last_id = self.stats.last_id = await asyncio.to_thread(self.store.last_event_id)
        self._tasks = [asyncio.create_task(self._poll()), asyncio.create_task(self._watchdog())]
        if bus is not None:
            group = f"console-hub-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            for topic in (topics.ALERTS, topics.ALERT_TRANSITIONS):
                self._tasks.append(asyncio.create_task(self._follow(bus, topic, group)))

    async def stop(self) -> None:
        for sub in list(self.subscribers):
            sub.close(CLOSE_GOING_AWAY, "server shutting down")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def wake(self) -> None:
        """Something was written to the event log: read it now rather than at the next poll."""
        self._wake.set()

    async def attach(self, sub: Subscriber, resume_from: int | None,
                     hello: dict[str, Any]) -> None:
        """Register a client: hello, current camera states, then events after
        ``resume_from`` (or from now). A ``resume_from`` beyond the log's end (a restored
        database) is clamped to the end."""
        head = await asyncio.to_thread(self.store.last_event_id)
        self.subscribers.add(sub)
        self.stats.clients = len(self.subscribers)
        self.stats.connections += 1
        self._position(sub, head, resume_from, hello)

    async def reposition(self, sub: Subscriber, resume_from: int,
                         hello: dict[str, Any]) -> None:
        """A ``resume`` message: restart the client's stream after ``resume_from``."""
        head = await asyncio.to_thread(self.store.last_event_id)
        if sub in self.subscribers:
            self._position(sub, head, resume_from, hello)

    def detach(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        self.stats.clients = len(self.subscribers)
        if sub.catching_up is not None:
            sub.catching_up.cancel()

    def camera(self, camera_id: str) -> None:
        """Push a camera's current state to every client (not replayed: on connect and
        after a catch-up each client gets all current states instead)."""
        view = self.cameras.view(camera_id)
        if view is None:
            return
        frame = envelope("camera", None, view.as_json())
        for sub in self.subscribers:
            if not sub.offer(frame):
                sub.resend_cameras = True

    def ping(self) -> str:
        return envelope("ping", None, {"at": self.clock.now(), "last_id": self.last_id})

    # --- internals --------------------------------------------------------------------

    def _position(self, sub: Subscriber, head: int, resume_from: int | None,
                  hello: dict[str, Any]) -> None:
        """Point ``sub`` after ``resume_from`` (no ``await``: atomic w.r.t. the hub)."""
        if sub.catching_up is not None:
            sub.catching_up.cancel()
            sub.catching_up = None
        start = head if resume_from is None else max(0, min(resume_from, head))
        sub.queue.clear()
        sub.cursor, sub.live, sub.replay_until = start, False, head
        sub.offer(envelope("hello", None, {**hello, "last_id": head, "resume_from": start,
                                           "heartbeat_s": self.settings.ws.heartbeat}))
        self._send_cameras(sub)
        # Live only if nothing before the hello is missing: the hub itself may not have read
        # the log up to ``head`` yet (it reads at most every ``coalesce`` s), and events up
        # to ``head`` must come from the log, flagged ``replay``.
        if start >= max(head, self.last_id):
            sub.live = True
        else:
            sub.catching_up = asyncio.create_task(self._catch_up(sub))

    def _send_cameras(self, sub: Subscriber) -> None:
        sub.resend_cameras = False
        for view in self.cameras.views():
            if not sub.offer(envelope("camera", None, view.as_json())):
                sub.resend_cameras = True
                return

    def _frames(self, after: int, limit: int, replay_until: int = 0) -> list[tuple[int, str]]:
        """Blocking: events after ``after`` as ready frames (run in a worker thread)."""
        details = self.store.event_details_after(after, limit)
        now = self.clock.now()
        return [(d.event.id, event_envelope(d, self.settings, d.event.id <= replay_until, now))
                for d in details]

    async def _poll(self) -> None:
        last_read = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.ws.poll_every)
            # Under load, read at most every ``coalesce`` s: bigger batches, fewer writes to
            # every socket; when quiet the first event goes out at once.
            pause = last_read + self.settings.ws.coalesce - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self._wake.clear()
            last_read = time.monotonic()
            try:
                await self._read_log()
            except RetryableError as exc:
                log.warning("websocket hub: store unavailable (%s); retrying", exc)
                await asyncio.sleep(self.settings.ws.poll_every)
            except Exception:  # the hub must outlive one bad read; say so loudly
                log.exception("websocket hub: reading the event log failed; retrying")
                await asyncio.sleep(self.settings.ws.poll_every)

    async def _read_log(self) -> None:
        while True:
            frames = await asyncio.to_thread(self._frames, self.last_id, BATCH)
            frames = [f for f in frames if f[0] > self.last_id]
            self.stats.reads += 1
            if not frames:
                return
            self._fan_out(frames)
            self.last_id = self.stats.last_id = frames[-1][0]
            if len(frames) < BATCH:
                return

    def _fan_out(self, frames: list[tuple[int, str]]) -> None:
        """Hand each live client the frames after its cursor (ids are contiguous, so that is
        one slice); a client whose queue cannot take them all falls behind."""
        first, texts = frames[0][0], Frames(text for _, text in frames)
        for sub in self.subscribers:
            if not sub.live:
                continue
            skip = sub.cursor + 1 - first  # > 0: a catch-up already sent those
            if skip < 0:
                self._fall_behind(sub)
                continue
            wanted = texts[skip:] if skip else texts
            taken = sub.queue.put(wanted)
            sub.cursor += taken
            if taken < len(wanted):
                self._fall_behind(sub)

    def _fall_behind(self, sub: Subscriber) -> None:
        sub.live = False
        if sub.full_since is None and sub.queue.full():
            sub.full_since = time.monotonic()
        sub.catching_up = asyncio.create_task(self._catch_up(sub))

    async def _catch_up(self, sub: Subscriber) -> None:
        """Feed ``sub`` from the event log until it reaches the hub, then make it live."""
        page = min(self.settings.ws.page, sub.queue.maxsize)
        while True:
            while sub.queue.free() < page:
                sub.room.clear()
                await sub.room.wait()
            try:
                frames = await asyncio.to_thread(self._frames, sub.cursor, page,
                                                 sub.replay_until)
            except RetryableError as exc:
                log.warning("websocket catch-up: store unavailable (%s); retrying", exc)
                await asyncio.sleep(self.settings.ws.poll_every)
                continue
            if frames and frames[0][0] > sub.cursor + 1:  # cannot happen by construction
                log.error("event log gap: ids %d..%d missing", sub.cursor + 1, frames[0][0] - 1)
                sub.cursor = frames[0][0] - 1
            for event_id, frame in frames:
                if event_id == sub.cursor + 1 and sub.offer(frame):
                    sub.cursor = event_id
                    self.stats.replayed += 1
            # Live once the client has every event the hub has fanned out *and* every event
            # that happened before its hello: the hub's frames are built unflagged, so going
            # live below ``replay_until`` (the hub lagging the log under load) would send the
            # rest of the gap as live events (seen in CI).
            if max(self.last_id, sub.replay_until) <= sub.cursor:  # no await: atomic switch
                sub.live, sub.catching_up = True, None
                if sub.resend_cameras:
                    self._send_cameras(sub)
                return

    async def _watchdog(self) -> None:
        stall = self.settings.ws.stall_after
        while True:
            await asyncio.sleep(min(1.0, stall / 4))
            now = time.monotonic()  # real time: this is about sockets, not event time
            for sub in list(self.subscribers):
                if not sub.queue.full():
                    sub.full_since = None
                elif sub.full_since is None:
                    sub.full_since = now
                elif now - sub.full_since >= stall:
                    self.stats.dropped_clients += 1
                    log.info("websocket client too slow (queue full for %.0f s): closing", stall)
                    sub.close(CLOSE_TOO_SLOW, "too slow: reconnect and resume")
                    self.detach(sub)

    async def _follow(self, bus: Bus, topic: Topic[Any], group: str) -> None:
        """Wake the hub on bus messages (the messages themselves are not used).

        After a wake it rests ``coalesce`` seconds before reading again: the hub reads the
        log at most that often anyway, so an earlier wake-up would change nothing but cost a
        bus read and an ack per alert (at 500 alerts/s, 1,000 round trips a second through
        the node's bus). What arrives meanwhile is taken by the next read, at most one bus
        round trip after the hub's own next turn."""
        while True:
            try:
                batch = await bus.read(topic, group, "hub", count=BATCH, block=1.0)
                if batch:
                    self.wake()
                    await bus.ack(topic, group, [d.id for d in batch])
                    await asyncio.sleep(self.settings.ws.coalesce)
            except BusError as exc:
                log.warning("websocket hub: bus %s interrupted (%s); polling meanwhile",
                            topic, exc)
                await asyncio.sleep(1.0)
