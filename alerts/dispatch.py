"""110 dispatch: signed webhook deliveries from a durable outbox, with retries and dead letters.

The path of one alert (docs/integration.md §4)::

    Dispatcher.enqueue(alert)  ──▶ one dispatch_outbox row per matching target (idempotent)
    Dispatcher.run_once()      ──▶ take due rows (leased) ─▶ POST, signed, concurrently
        2xx                         → delivered
        408 / 425 / 429 / 5xx,
        timeout, connection error  → retried after core.retry.Backoff (full jitter);
                                     after max_attempts → dead letter
        any other status           → dead letter at once

Why these rules:

* **Durable first.** Rows are written before any attempt, so a crash loses nothing: an
  unfinished row comes due again when its lease runs out. The ``webhook-id`` is derived from
  alert id + target (+ the transition for updates), so enqueuing again after a crash finds
  the same row instead of a second delivery. Delivery is at least once; receivers
  de-duplicate on ``webhook-id``.
* **Other 4xx are final.** 400/401/403/404/413/422 mean the receiver rejected this body or
  our credentials; sending the identical signed bytes again cannot change its mind, and
  retrying would hide a configuration error for the length of the backoff. The row goes
  straight to the dead-letter list, where a person fixes the cause and presses "retry"
  (:meth:`core.store.Store.retry_dead`). 408 (timeout), 425 (too early) and 429 (rate
  limit, honouring ``Retry-After``) are transient and retried. Redirects are not followed:
  a moved endpoint is a configuration change, not something to discover per alert.
* **Everything is visible.** Each outcome (delivered, failed-will-retry, dead) is appended
  to the alert's timeline as ``kind="dispatch"`` so the console shows what 110 got and when.
* **Bounded.** At most ``concurrency`` attempts are in flight, each bounded by its target's
  ``timeout`` as a whole (not per read), so a slow-dripping receiver cannot hold a slot.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from alerts.cap import CONTENT_TYPE as CAP_CONTENT_TYPE
from alerts.cap import cap_xml
from alerts.dispatch_retry import Outcome, classify, retry_after
from alerts.dispatch_sign import sign_headers
from alerts.envelope import build_envelope, dumps
from core.clock import Clock
from core.config.dispatch import DispatchConfig, DispatchTarget
from core.counters import DISPATCH
from core.messages import Alert, AlertTransition, TransitionKind
from core.ports import DispatcherStore
from core.retry import Backoff
from core.store import AlertRecord, DispatchItem, DispatchRequest, NotFoundError
from core.supervise import guarded

log = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json"
USER_AGENT = "Vigil-Dispatch/1"
_ID_NAMESPACE = uuid.UUID("6f1c1c2e-6a53-4d0c-9d43-7a3b6d1e2f10")
_STORE_BACKOFF = Backoff(base=1.0, cap=30.0)


def webhook_id(alert_id: str, target: str, update: AlertTransition | None = None) -> str:
    """The delivery's ``webhook-id``: the same for the same alert, target and transition."""
    event = "raised" if update is None else f"{update.to_state.value}@{update.at!r}"
    return "msg_" + uuid.uuid5(_ID_NAMESPACE, f"{alert_id}|{target}|{event}").hex


def wants(target: DispatchTarget, alert: Alert, update: AlertTransition | None = None) -> bool:
    """Whether ``target`` receives this alert (or this update of it)."""
    if not target.enabled or alert.level not in target.levels:
        return False
    if target.categories and alert.category not in target.categories:
        return False
    if alert.review_only and not target.include_review_only:
        return False
    return update is None or (target.updates and update.kind == TransitionKind.TRANSITION)


def render(target: DispatchTarget, record: AlertRecord, config: DispatchConfig,
           update: AlertTransition | None = None) -> tuple[str, str]:
    """(body, content type) of one delivery in the target's format."""
    if target.format == "cap":
        return cap_xml(record.alert, config.evidence, config.cap, update), CAP_CONTENT_TYPE
    envelope = build_envelope(record.alert, config.evidence, record, update)
    return dumps(envelope), JSON_CONTENT_TYPE


@dataclass(frozen=True, slots=True)
class _Settled:
    kind: str
    note: str
    next_at: float | None = None


class Dispatcher:
    """Queues alerts for the configured targets and delivers them (see the module doc)."""

    def __init__(self, store: DispatcherStore, config: DispatchConfig, clock: Clock,
                 http: httpx.AsyncClient) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._http = http
        self._targets = {t.name: t for t in config.targets}
        self._slots = asyncio.Semaphore(config.concurrency)
        self._wake = asyncio.Event()
        self.counts: Counter[str] = Counter()
        """attempts, delivered, retried, dead, errors (for /metrics)."""

    def plan(self, record: AlertRecord,
             update: AlertTransition | None = None) -> list[DispatchRequest]:
        """The deliveries ``record`` (or ``update`` of it) needs, one per matching target."""
        alert = record.alert
        requests: list[DispatchRequest] = []
        for target in self._config.targets:
            if wants(target, alert, update):
                body, content_type = render(target, record, self._config, update)
                requests.append(DispatchRequest(
                    alert.alert_id, target.name, webhook_id(alert.alert_id, target.name, update),
                    body, content_type))
        return requests

    async def enqueue(self, alert: Alert,
                      update: AlertTransition | None = None) -> list[DispatchItem]:
        """Queue ``alert`` (already stored) for every matching target; returns the rows.

        Idempotent: after a crash, enqueuing the same alert again returns the existing rows
        (with their original bodies). ``update`` queues a later state change instead, for
        targets with ``updates: true``. Raises :class:`~core.store.NotFoundError` for an
        alert that is not in the store (it must be persisted before anyone is told).
        """
        items = await asyncio.to_thread(self._enqueue, alert.alert_id, update)
        if items:
            self._wake.set()
        return items

    def _enqueue(self, alert_id: str, update: AlertTransition | None) -> list[DispatchItem]:
        record = self._store.get_alert(alert_id)
        if record is None:
            raise NotFoundError(f"alert {alert_id}")
        return [self._store.enqueue_dispatch(r) for r in self.plan(record, update)]

    async def run_once(self) -> int:
        """Attempt every due row once (concurrently, bounded); returns how many were taken."""
        items = await asyncio.to_thread(self._store.due_dispatches, self._clock.now(),
                                        self._config.batch, self._config.lease)
        results = await asyncio.gather(*(self._attempt(item) for item in items),
                                       return_exceptions=True)
        for item, result in zip(items, results, strict=True):
            if isinstance(result, BaseException):
                self.counts["errors"] += 1
                log.error("dispatch %s -> %s: could not record the outcome (%s); the row is "
                          "attempted again when its lease ends", item.alert_id, item.target,
                          result)
        return len(items)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: immediately after an enqueue, else every
        ``poll_interval``. A failed round (a store outage, or a bug) is logged, counted
        (:func:`core.supervise.guarded`) and waited out with backoff; it never ends the loop."""
        failures = 0
        while not stop.is_set():
            self._wake.clear()
            round_ = await guarded("alerts.dispatch", self.run_once, "delivery round")
            if round_.ok and round_.value is not None:
                failures = 0
                wait = 0.0 if round_.value >= self._config.batch else self._config.poll_interval
            else:  # logged and counted by the guard; a store outage or a bug: back off
                wait = _STORE_BACKOFF.delay(failures)
                failures += 1
            if wait > 0:
                await self._pause(stop, wait)

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _attempt(self, item: DispatchItem) -> None:
        target = self._targets.get(item.target)
        if target is None:
            outcome = Outcome(False, False, f"target {item.target!r} is not configured")
        else:
            async with self._slots:
                outcome = await self._post(item, target)
        await asyncio.to_thread(self._settle, item, target, outcome)

    async def _post(self, item: DispatchItem, target: DispatchTarget) -> Outcome:
        self.counts["attempts"] += 1
        body = item.body.encode("utf-8")
        headers = sign_headers(item.webhook_id, int(self._clock.now()), body, target.secret)
        headers |= {"content-type": item.content_type, "user-agent": USER_AGENT}
        try:
            async with asyncio.timeout(target.timeout):
                response = await self._http.post(target.url, content=body, headers=headers,
                                                 timeout=target.timeout, follow_redirects=False)
        except (TimeoutError, httpx.TimeoutException):
            return Outcome(False, True, f"no answer within {target.timeout:g} s")
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return Outcome(False, False, f"unusable target URL: {exc}")
        except httpx.TransportError as exc:
            return Outcome(False, True, f"{type(exc).__name__}: {exc}".strip())
        return classify(response.status_code, response.text,
                        retry_after(response.headers.get("retry-after"), self._clock.now()))

    def _settle(self, item: DispatchItem, target: DispatchTarget | None,
                outcome: Outcome) -> None:
        """Record one attempt's outcome on the row and in the alert's timeline."""
        settled = self._decide(item, target, outcome)
        if settled.kind == "delivered":
            mine = self._store.mark_delivered(item.id)
        elif settled.next_at is not None:
            mine = self._store.mark_failed(item.id, settled.next_at, outcome.error)
        else:
            mine = self._store.mark_dead(item.id, outcome.error)
        if not mine:  # another worker finished the row after our lease ran out
            return
        self.counts[settled.kind] += 1
        DISPATCH.deliveries[(item.target, settled.kind)] += 1
        self._timeline(item, outcome, settled)
        log_at = logging.INFO if settled.kind == "delivered" else logging.WARNING
        log.log(log_at, "alert %s: %s", item.alert_id, settled.note)

    def _decide(self, item: DispatchItem, target: DispatchTarget | None,
                outcome: Outcome) -> _Settled:
        attempt = item.attempts + 1
        name = item.target
        status = f"HTTP {outcome.status}" if outcome.status is not None else outcome.error
        if outcome.delivered:
            return _Settled("delivered", f"delivered to {name} ({status}, attempt {attempt})")
        if target is not None and outcome.retryable and attempt < target.max_attempts:
            backoff = Backoff(base=target.backoff_base, cap=target.backoff_cap)
            delay = max(backoff.delay(item.attempts), outcome.retry_after or 0.0)
            return _Settled("retried", f"attempt {attempt} to {name} failed: {outcome.error}; "
                                       f"next attempt in {delay:.1f} s", self._clock.now() + delay)
        why = (f"after {attempt} attempts" if outcome.retryable else "not retryable")
        return _Settled("dead", f"gave up on {name} ({why}): {outcome.error}; dead letter")

    def _timeline(self, item: DispatchItem, outcome: Outcome, settled: _Settled) -> None:
        record = self._store.get_alert(item.alert_id)
        if record is None:
            return
        state = record.alert.state
        self._store.append_event(
            AlertTransition(item.alert_id, TransitionKind.DISPATCH, state, state,
                            f"dispatch:{item.target}", self._clock.now(), settled.note),
            {"source": "delivery", "target": item.target, "webhook_id": item.webhook_id,
             "dispatch_item": item.id, "outcome": settled.kind, "attempt": item.attempts + 1,
             "http_status": outcome.status, "error": outcome.error,
             "next_attempt_at": settled.next_at})


def matching_targets(config: DispatchConfig, alert: Alert) -> Sequence[str]:
    """Names of the targets ``alert`` would be sent to (for the console and tests)."""
    return [t.name for t in config.targets if wants(t, alert)]
