"""The alert stage as a running service: bus in, durable alerts out.

Three consumers (sightings, scene events, camera statuses) feed the rule engine; every
alert it raises is committed to the store *before* the observation is acknowledged on the
bus, so a crash between the two redelivers the observation instead of losing the alert.
A ticker drives time-based rules (camera health) and SLA escalations once a second, and a
transitions consumer keeps the SLA timers in step with what operators do in the console.
The engine and SLA tracker are synchronous and owned by this event loop alone.

Every loop runs under a supervisor and every message through a guard (core/supervise.py,
core/consume.py): an observation whose evaluation raises is logged, counted, delivered again
a few times and then parked in the store, so one bad message cannot stop alerting.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import TypeVar

from alerts.dispatch import Dispatcher
from alerts.outbox import AlertPublisher
from alerts.rules import RuleEngine
from alerts.sla import SlaTracker
from core import topics
from core.bus import Bus, Delivery
from core.clock import Clock
from core.consume import (
    ConsumerSettings,
    Handler,
    MessageGuard,
    Subscription,
    consume,
    store_parker,
)
from core.counters import FLOW
from core.messages import (
    Alert,
    AlertState,
    AlertTransition,
    Observation,
    Sighting,
    TransitionKind,
    WireMessage,
)
from core.ports import AlertServiceStore
from core.store import AlertQuery
from core.supervise import Factory, RestartPolicy, every, start_supervised
from core.topics import Topic

log = logging.getLogger(__name__)
GROUP = "rules"
OPEN_STATES = (AlertState.NEW, AlertState.SIGNED, AlertState.DISPOSING)
M = TypeVar("M", bound=WireMessage)


@dataclass
class AlertCounters:
    observations: int = 0
    alerts: int = 0
    escalations: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)


class AlertService:
    def __init__(self, store: AlertServiceStore, bus: Bus, engine: RuleEngine, clock: Clock,
                 sla: SlaTracker | None = None) -> None:
        self.store, self.bus, self.engine, self.clock = store, bus, engine, clock
        self.sla = sla or SlaTracker()
        self.dispatcher: Dispatcher | None = None
        """Set before :meth:`start` to send alerts to 110 dispatch targets."""
        self._stop = asyncio.Event()
        self.publisher = AlertPublisher(store, bus)
        self.counters = AlertCounters()
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self.consumer_settings = ConsumerSettings()
        """Set before :meth:`start`: deliveries before a failing message is parked, etc."""
        self.restart_policy = RestartPolicy()
        self._tasks: list[asyncio.Task[None]] = []

    async def handle(self, observation: Observation) -> list[Alert]:
        """Evaluate one observation; returns the alerts accepted (committed) for it."""
        if isinstance(observation, Sighting):
            FLOW.alert_lag_s = max(0.0, self.clock.now() - observation.last_seen)
            FLOW.sightings_handled += 1
            await asyncio.to_thread(self.store.add_sighting, observation)
        raised = self.engine.evaluate(observation)
        for alert in raised:
            await self._accept(alert)
        self.counters.observations += 1
        self.counters.alerts += len(raised)
        return raised

    async def _accept(self, alert: Alert) -> None:
        """Commit, publish, time, and queue for 110 dispatch (from the store, not the bus:
        an in-process bus dies with the process, the dispatch outbox does not)."""
        await self.publisher.accept(alert)
        self.sla.watch(alert)
        if self.dispatcher is not None:
            await self.dispatcher.enqueue(alert)

    async def restore(self) -> int:
        """After a restart: publish the outbox and re-arm SLA timers of open alerts."""
        await self.publisher.resume()
        restored = 0
        for state in OPEN_STATES:
            records = await asyncio.to_thread(
                self.store.list_alerts, AlertQuery(state=state, limit=10_000))
            for record in records:
                timeline = await asyncio.to_thread(self.store.timeline, record.alert.alert_id)
                restored += self.sla.restore(record, timeline)
                if self.dispatcher is not None:  # crashed between commit and queueing
                    await self.dispatcher.enqueue(record.alert)
        return restored

    async def tick(self) -> None:
        now = self.clock.now()
        for alert in self.engine.tick(now):
            await self._accept(alert)
            self.counters.alerts += 1
        for escalation in self.sla.tick(now):
            if await asyncio.to_thread(self.store.append_event, escalation):
                await self.bus.publish(topics.ALERT_TRANSITIONS, escalation)
                self.counters.escalations += 1

    def _consumer(self, task: str, topic: Topic[M], handle: Handler[M],
                  group: str = GROUP) -> Factory:
        """A supervised, guarded consumer of ``topic`` (core/consume.py: a message that
        keeps failing is parked in the store and acknowledged, so the rest flow)."""
        guard = MessageGuard(task, store_parker(self.store), self.clock, self.consumer_settings)
        sub = Subscription(topic, group, self.consumer)

        async def counted(delivery: Delivery[M]) -> None:
            await handle(delivery)
            self.counters.by_topic[topic.name] = self.counters.by_topic.get(topic.name, 0) + 1

        return lambda: consume(self.bus, sub, counted, guard, self._stop)

    async def _observation(self, delivery: Delivery[Observation]) -> None:
        """The handler of the sightings, events and camera status topics: each topic is
        typed (core/topics.py), so what arrives is an observation without a check here."""
        await self.handle(delivery.message)

    async def _transition(self, delivery: Delivery[AlertTransition]) -> None:
        self.sla.observe(delivery.message)

    async def _dispatch_update(self, delivery: Delivery[AlertTransition]) -> None:
        message = delivery.message
        if self.dispatcher is None or message.kind != TransitionKind.TRANSITION:
            return
        record = await asyncio.to_thread(self.store.get_alert, message.alert_id)
        if record is not None:
            await self.dispatcher.enqueue(record.alert, message)

    def _dispatch_tasks(self) -> dict[str, Factory]:
        """State updates go to targets that want them (acknowledged once queued, so a crash
        re-queues them; queueing is idempotent), and the delivery loop runs."""
        dispatcher = self.dispatcher
        if dispatcher is None:
            return {}
        return {
            "alerts.dispatch_updates": self._consumer(
                "alerts.dispatch_updates", topics.ALERT_TRANSITIONS, self._dispatch_update,
                group="dispatch-updates"),
            "alerts.dispatch": lambda: dispatcher.run(self._stop),
        }

    async def start(self, tick_interval: float = 1.0) -> None:
        """Start every loop under a supervisor (core/supervise.py): a loop that dies is
        logged and restarted with back-off instead of silently ending alerting."""
        self._stop.clear()
        await self.restore()
        sla_group = f"sla-{self.consumer}"
        loops: dict[str, Factory] = {
            "alerts.sightings": self._consumer("alerts.sightings", topics.SIGHTINGS,
                                               self._observation),
            "alerts.events": self._consumer("alerts.events", topics.EVENTS, self._observation),
            "alerts.camera_status": self._consumer("alerts.camera_status",
                                                   topics.CAMERA_STATUS, self._observation),
            "alerts.sla": self._consumer("alerts.sla", topics.ALERT_TRANSITIONS,
                                         self._transition, group=sla_group),
            "alerts.ticker": lambda: every("alerts.ticker", tick_interval, self.tick,
                                           self._stop),
            "alerts.outbox": self.publisher.run,
            **self._dispatch_tasks(),
        }
        self._tasks = [start_supervised(name, loop, self._stop, self.restart_policy)
                       for name, loop in loops.items()]

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        _done, pending = await asyncio.wait(self._tasks, timeout=5.0)
        for task in pending:
            log.error("alerts: task %s did not stop: %s", task.get_name(), task.get_stack())
        self._tasks = []
