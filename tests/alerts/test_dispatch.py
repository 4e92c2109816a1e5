"""Dispatch end to end against a real HTTP receiver on loopback (see test_dispatch_receiver).

The store is real (SQLite in a tmp dir; one test also on PostgreSQL), HTTP is real; only
time is fake, so backoff waits are a ``clock.advance`` and the suite stays fast.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerts.dispatch import Dispatcher, matching_targets, webhook_id
from core.clock import FakeClock
from core.config.dispatch import DispatchConfig, DispatchTarget, EvidenceLinks
from core.lifecycle import Action, transition
from core.messages import Alert, TransitionKind
from core.store import DispatchItem, DispatchState, NotFoundError, Store, open_store
from tests.alerts.test_dispatch_receiver import SECRET, Receiver, free_port, make_alert

pytest_plugins = ["tests.core.store_fixtures"]

CAP = 4.0
"""backoff_cap of the test targets: advancing the clock by it makes every failed row due."""


def target(name: str, url: str, **options: Any) -> DispatchTarget:
    values: dict[str, Any] = {"name": name, "url": url, "secret": SECRET, "timeout": 0.5,
                              "backoff_base": 1.0, "backoff_cap": CAP, "max_attempts": 30}
    return DispatchTarget.model_validate(values | options)


def config(*targets: DispatchTarget) -> DispatchConfig:
    return DispatchConfig(evidence=EvidenceLinks(public_base_url="https://vigil.test/evidence"),
                          targets=list(targets), concurrency=16, batch=100, lease=60.0)


@pytest.fixture
def sqlite_store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'vigil.db'}", clock)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def stored(store: Store, alerts: Sequence[Alert]) -> list[Alert]:
    for alert in alerts:
        store.insert_alert(alert)
    return list(alerts)


def rows(store: Store, alerts: Sequence[Alert]) -> list[DispatchItem]:
    return [item for a in alerts for item in store.dispatches_for(a.alert_id)]


async def drain(dispatcher: Dispatcher, store: Store, clock: FakeClock,
                alerts: Sequence[Alert], rounds: int = 40) -> int:
    """Run rounds (advancing the fake clock past every backoff) until nothing is pending."""
    for done in range(1, rounds + 1):
        await dispatcher.run_once()
        if all(i.state != DispatchState.PENDING for i in rows(store, alerts)):
            return done
        clock.advance(CAP)
    raise AssertionError(f"still pending after {rounds} rounds")


def outcomes(store: Store, alert: Alert) -> list[str]:
    return [str(e.detail["outcome"]) for e in store.timeline(alert.alert_id)
            if e.kind == "dispatch" and e.detail is not None]


@pytest.mark.slow  # real HTTP receiver, retries
async def test_outage_then_flaky_receiver_delivers_every_alert_effectively_once(
        sqlite_store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    receiver = Receiver(SECRET, clock, script=lambda n, _id: (503 if n % 2 else 200, 0.0))
    alerts = stored(sqlite_store, [make_alert(n) for n in range(20)])
    dispatcher = Dispatcher(sqlite_store, config(target("110", receiver.url)), clock, http)
    for alert in alerts:
        assert len(await dispatcher.enqueue(alert)) == 1
    for _ in range(3):  # receiver down: connection refused, rows stay pending
        assert await dispatcher.run_once() == 20
        clock.advance(CAP)
    down = rows(sqlite_store, alerts)
    assert {(i.state, i.attempts) for i in down} == {(DispatchState.PENDING, 3)}
    assert all("ConnectError" in i.last_error for i in down)
    await receiver.start()
    try:
        await drain(dispatcher, sqlite_store, clock, alerts)
    finally:
        await receiver.stop()
    items = rows(sqlite_store, alerts)
    assert {i.state for i in items} == {DispatchState.DELIVERED}
    assert set(receiver.processed) == {i.webhook_id for i in items}
    assert receiver.bad_signatures == 0
    assert Counter(r.status for r in receiver.requests)[503] >= 10
    sent = {json.loads(body)["alert_id"] for body in receiver.bodies.values()}
    assert sent == {a.alert_id for a in alerts}
    history = outcomes(sqlite_store, alerts[0])
    assert history[:3] == ["retried"] * 3 and history[-1] == "delivered"
    assert dispatcher.counts["delivered"] == 20


@pytest.mark.slow  # real HTTP receiver, timeouts
async def test_slow_receiver_causes_duplicates_that_dedup_on_webhook_id(
        sqlite_store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    seen: set[str] = set()

    def slow_first(_n: int, wid: str) -> tuple[int, float]:
        first = wid not in seen
        seen.add(wid)
        return 200, 1.5 if first else 0.0  # processed, then answers after the client gave up

    receiver = Receiver(SECRET, clock, script=slow_first)
    alerts = stored(sqlite_store, [make_alert(n) for n in range(10)])
    cfg = config(target("110", receiver.url, timeout=0.3))
    dispatcher = Dispatcher(sqlite_store, cfg, clock, http)
    for alert in alerts:
        await dispatcher.enqueue(alert)
    await receiver.start()
    try:
        assert await drain(dispatcher, sqlite_store, clock, alerts) == 2
    finally:
        await receiver.stop()
    items = rows(sqlite_store, alerts)
    assert {i.state for i in items} == {DispatchState.DELIVERED}
    assert all("no answer within 0.3 s" in e.note for a in alerts[:1]
               for e in sqlite_store.timeline(a.alert_id)
               if e.detail is not None and e.detail.get("outcome") == "retried")
    assert receiver.duplicates == 10  # each body arrived twice ...
    assert set(receiver.processed) == {i.webhook_id for i in items}  # ... once after dedup


async def test_dead_letter_after_max_attempts_then_manual_retry(
        sqlite_store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    port = free_port()  # nothing listens here
    receiver = Receiver(SECRET, clock, port=port)
    alerts = stored(sqlite_store, [make_alert(n) for n in range(5)])
    dispatcher = Dispatcher(sqlite_store, config(target("110", receiver.url, max_attempts=3)),
                            clock, http)
    for alert in alerts:
        await dispatcher.enqueue(alert)
    for _ in range(3):
        await dispatcher.run_once()
        clock.advance(CAP)
    dead = sqlite_store.dead_letters()
    assert len(dead) == 5 and {d.attempts for d in dead} == {3}
    assert all("ConnectError" in d.last_error for d in dead)
    assert outcomes(sqlite_store, alerts[0]) == ["retried", "retried", "dead"]
    assert await dispatcher.run_once() == 0  # dead rows are never taken again
    for item in dead:
        assert sqlite_store.retry_dead(item.id)
    await receiver.start()
    try:
        await drain(dispatcher, sqlite_store, clock, alerts)
    finally:
        await receiver.stop()
    assert {i.state for i in rows(sqlite_store, alerts)} == {DispatchState.DELIVERED}
    assert sqlite_store.dead_letters() == []


async def test_refusals_are_dead_at_once_but_server_errors_are_retried(
        sqlite_store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    alerts = stored(sqlite_store, [make_alert(n) for n in range(4)])
    answers = {webhook_id(a.alert_id, "110"): code
               for a, code in zip(alerts, (400, 401, 301, 500), strict=True)}
    receiver = Receiver(SECRET, clock, script=lambda _n, wid: (answers[wid], 0.0))
    dispatcher = Dispatcher(sqlite_store, config(target("110", receiver.url)), clock, http)
    for alert in alerts:
        await dispatcher.enqueue(alert)
    await receiver.start()
    try:
        await dispatcher.run_once()
    finally:
        await receiver.stop()
    by_alert = {i.alert_id: i for i in rows(sqlite_store, alerts)}
    states = [(by_alert[a.alert_id].state, by_alert[a.alert_id].attempts) for a in alerts]
    assert states == [(DispatchState.DEAD, 1)] * 3 + [(DispatchState.PENDING, 1)]
    assert "HTTP 400" in by_alert[alerts[0].alert_id].last_error
    assert "redirects are not followed" in by_alert[alerts[2].alert_id].last_error
    assert outcomes(sqlite_store, alerts[1]) == ["dead"]


async def test_targets_filter_by_level_category_and_review_only(
        sqlite_store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    receiver = Receiver(SECRET, clock)
    cfg = config(target("city", receiver.url, levels=[1, 2], categories=["stolen", "wanted"]),
                 target("cap", receiver.url, levels=[3, 4], format="cap"),
                 target("review", receiver.url, include_review_only=True, levels=[2]))
    urgent, minor = make_alert(1, level=1), make_alert(2, level=3, category="intrusion")
    other, cloned = make_alert(3, level=2, category="key_vehicle"), make_alert(
        4, level=2, category="cloned_plate", review_only=True)
    alerts = stored(sqlite_store, [urgent, minor, other, cloned])
    dispatcher = Dispatcher(sqlite_store, cfg, clock, http)
    for alert in alerts:
        await dispatcher.enqueue(alert)
    targets = {a.alert_id: sorted(i.target for i in sqlite_store.dispatches_for(a.alert_id))
               for a in alerts}
    assert targets == {urgent.alert_id: ["city"], minor.alert_id: ["cap"],
                       other.alert_id: ["review"], cloned.alert_id: ["review"]}
    assert matching_targets(cfg, cloned) == ["review"]
    assert matching_targets(config(target("city", receiver.url)), cloned) == []
    await receiver.start()
    try:
        await drain(dispatcher, sqlite_store, clock, alerts)
    finally:
        await receiver.stop()
    cap_item = sqlite_store.dispatches_for(minor.alert_id)[0]
    assert cap_item.content_type == "application/cap+xml"
    assert receiver.bodies[cap_item.webhook_id].startswith(b"<?xml")
    headers = next(r.headers for r in receiver.requests if r.webhook_id == cap_item.webhook_id)
    assert headers["content-type"] == "application/cap+xml"


async def test_enqueue_is_idempotent_across_restarts_and_needs_a_stored_alert(
        sqlite_store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    cfg = config(target("110", "http://127.0.0.1:9/hook"), target("b", "http://127.0.0.1:9/b"))
    alert = stored(sqlite_store, [make_alert(1)])[0]
    first = await Dispatcher(sqlite_store, cfg, clock, http).enqueue(alert)
    clock.advance(5)
    again = await Dispatcher(sqlite_store, cfg, clock, http).enqueue(alert)  # "after a crash"
    assert again == first and len(first) == 2
    assert len({i.webhook_id for i in first}) == 2
    with pytest.raises(NotFoundError):
        await Dispatcher(sqlite_store, cfg, clock, http).enqueue(make_alert(99))


async def test_updates_go_only_to_targets_that_ask(
        sqlite_store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    cfg = config(target("plain", "http://127.0.0.1:9/a"),
                 target("json", "http://127.0.0.1:9/b", updates=True),
                 target("cap", "http://127.0.0.1:9/c", updates=True, format="cap"))
    record = sqlite_store.insert_alert(make_alert(1))
    step = transition(record.case, Action.DISMISS, "alice", record.alert.raised_at + 20,
                      "false alarm: plate misread")
    record = sqlite_store.append_transition(step, record.case)
    assert step.transition is not None
    dispatcher = Dispatcher(sqlite_store, cfg, clock, http)
    items = await dispatcher.enqueue(record.alert, step.transition)
    by_target = {i.target: i for i in items}
    assert sorted(by_target) == ["cap", "json"]
    body = json.loads(by_target["json"].body)
    assert (body["type"], body["state"], body["update"]["to_state"]) == (
        "alert.cancelled", "dismissed", "dismissed")
    assert body["timestamps"]["dismissed"] is not None
    assert "<msgType>Cancel</msgType>" in by_target["cap"].body
    escalation = step.transition.__class__(record.alert.alert_id, TransitionKind.ESCALATION,
                                           record.alert.state, record.alert.state, "sla", 1.0)
    assert await dispatcher.enqueue(record.alert, escalation) == []


async def test_removed_target_becomes_a_dead_letter(
        sqlite_store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    alert = stored(sqlite_store, [make_alert(1)])[0]
    await Dispatcher(sqlite_store, config(target("old", "http://127.0.0.1:9/")), clock,
                     http).enqueue(alert)
    await Dispatcher(sqlite_store, config(), clock, http).run_once()
    (dead,) = sqlite_store.dead_letters()
    assert "target 'old' is not configured" in dead.last_error


async def test_run_loop_delivers_promptly_and_stops(
        sqlite_store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    receiver = Receiver(SECRET, clock)
    cfg = config(target("110", receiver.url)).model_copy(update={"poll_interval": 30.0})
    dispatcher = Dispatcher(sqlite_store, cfg, clock, http)
    stop = asyncio.Event()
    await receiver.start()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        await asyncio.sleep(0.05)  # the loop is now waiting (poll interval 30 s)
        alert = stored(sqlite_store, [make_alert(1)])[0]
        await dispatcher.enqueue(alert)  # wakes it: no 30 s wait
        async with asyncio.timeout(5):
            while not receiver.processed:
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        async with asyncio.timeout(5):
            await task
        await receiver.stop()
    assert sqlite_store.dispatches_for(alert.alert_id)[0].state == DispatchState.DELIVERED


async def test_delivery_on_both_store_backends(
        store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    receiver = Receiver(SECRET, clock, script=lambda n, _id: (500 if n <= 3 else 200, 0.0))
    alerts = stored(store, [make_alert(n) for n in range(6)])
    dispatcher = Dispatcher(store, config(target("110", receiver.url)), clock, http)
    for alert in alerts:
        await dispatcher.enqueue(alert)
    await receiver.start()
    try:
        await drain(dispatcher, store, clock, alerts)
    finally:
        await receiver.stop()
    items = rows(store, alerts)
    assert {i.state for i in items} == {DispatchState.DELIVERED}
    assert set(receiver.processed) == {i.webhook_id for i in items}


async def test_an_unusable_url_is_a_dead_letter_not_a_crash(
        sqlite_store: Store, clock: FakeClock, http: httpx.AsyncClient) -> None:
    alert = stored(sqlite_store, [make_alert(1)])[0]
    bad = target("bad", "http://127.0.0.1:9/").model_copy(update={"url": "http://[::1/hook"})
    dispatcher = Dispatcher(sqlite_store, config(bad), clock, http)  # config would refuse it
    await dispatcher.enqueue(alert)
    assert await dispatcher.run_once() == 1
    (dead,) = sqlite_store.dead_letters()
    assert dead.last_error.startswith("unusable target URL") and dead.attempts == 1
    assert dispatcher.counts["errors"] == 0
