"""alerts.watchlist: deploy, approve, withdraw, expiry, scope and hits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from alerts.matching import Strictness
from alerts.watchlist import (
    DISPOSITION_STATUS,
    Category,
    DeployRequest,
    EntryStatus,
    Scope,
    Watchlist,
    WatchlistError,
    approve,
    check_request,
    deploy,
    expire,
    in_scope,
    is_active,
    parse_scope,
    status_at,
    withdraw,
)
from core.errors import TransitionError

T0 = 1_800_000_000.0
GB_CAMERA = "11010500001320000001"       # Beijing 110105 (朝阳区), type 132 IPC


def _request(**changes: object) -> DeployRequest:
    base = DeployRequest("京A12345", Category.STOLEN, 1, "2026-11 盗抢车辆", "张三", unit="刑侦")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_deploy_active_by_default() -> None:
    entry = deploy(_request(entry_id="e1"), at=T0)
    assert (entry.entry_id, entry.plate, entry.pattern) == ("e1", "京A12345", None)
    assert entry.status is EntryStatus.ACTIVE and entry.deployed_at == T0
    assert entry.scope.network_wide and entry.strictness is Strictness.STRICT
    assert is_active(entry, T0)


def test_deploy_normalises_and_detects_patterns() -> None:
    assert deploy(_request(target="京a·12345")).plate == "京A12345"
    pattern = deploy(_request(target="京A12*"))
    assert pattern.plate is None and pattern.pattern == "京A12*" and pattern.target == "京A12*"
    assert deploy(_request()).entry_id.startswith("wl-")
    assert deploy(_request()).entry_id != deploy(_request()).entry_id


@pytest.mark.parametrize(("changes", "field", "why"), [
    ({"target": "京AI2345"}, "plate", "did you mean 京A12345"),
    ({"target": ""}, "plate", "empty"),
    ({"target": "京A["}, "plate", "closing"),
    ({"level": 5}, "level", "1 (most urgent) to 4"),
    ({"level": 0}, "level", "not a level"),
    ({"reason": "  "}, "reason", "needs a reason"),
    ({"applicant": ""}, "applicant", "needs an applicant"),
    ({"valid_from": T0, "valid_until": T0}, "valid_until", "ends before it begins"),
    ({"valid_until": T0 - 1}, "valid_until", "already past"),
])
def test_deploy_refuses(changes: dict[str, object], field: str, why: str) -> None:
    problems = check_request(_request(**changes), at=T0)
    assert [f for f, _ in problems] == [field]
    assert why in problems[0][1]
    with pytest.raises(WatchlistError, match=f"{field}: "):
        deploy(_request(**changes), at=T0)


def test_deploy_lists_every_problem() -> None:
    with pytest.raises(WatchlistError) as caught:
        deploy(_request(target="京AO2345", level=9, reason=""))
    assert [p.split(":")[0] for p in caught.value.problems] == ["plate", "level", "reason"]


def test_approval_needs_another_person() -> None:
    pending = deploy(_request(requires_approval=True), at=T0)
    assert pending.status is EntryStatus.PENDING_APPROVAL and not is_active(pending, T0)
    with pytest.raises(WatchlistError, match="another person"):
        approve(pending, "张三", T0 + 1)
    with pytest.raises(WatchlistError, match="who approves"):
        approve(pending, " ", T0 + 1)
    active = approve(pending, "李四", T0 + 60)
    assert (active.status, active.approved_by, active.approved_at) == (
        EntryStatus.ACTIVE, "李四", T0 + 60)
    assert is_active(active, T0 + 61) and pending.status is EntryStatus.PENDING_APPROVAL
    with pytest.raises(TransitionError, match="expected pending_approval, got active"):
        approve(active, "王五", T0 + 90)


def test_withdraw_needs_who_and_why() -> None:
    entry = deploy(_request(), at=T0)
    with pytest.raises(WatchlistError, match="needs a reason"):
        withdraw(entry, "李四", " ", T0 + 1)
    with pytest.raises(WatchlistError, match="who withdraws"):
        withdraw(entry, "", "车辆已找回", T0 + 1)
    gone = withdraw(entry, "李四", "车辆已找回", T0 + 5)
    assert gone.status is EntryStatus.WITHDRAWN and not is_active(gone, T0 + 6)
    assert (gone.withdrawn_by, gone.withdrawn_at, gone.withdrawn_reason) == (
        "李四", T0 + 5, "车辆已找回")
    with pytest.raises(TransitionError, match="got withdrawn"):
        withdraw(gone, "李四", "again", T0 + 7)
    pending = deploy(_request(requires_approval=True), at=T0)
    assert withdraw(pending, "张三", "申请撤回", T0).status is EntryStatus.WITHDRAWN


def test_validity_window_and_expiry() -> None:
    entry = deploy(_request(valid_from=T0 + 100, valid_until=T0 + 200), at=T0)
    assert not is_active(entry, T0 + 99)
    assert is_active(entry, T0 + 100) and is_active(entry, T0 + 199.9)
    assert not is_active(entry, T0 + 200)                  # valid_until is exclusive
    assert status_at(entry, T0 + 150) is EntryStatus.ACTIVE
    assert status_at(entry, T0 + 200) is EntryStatus.EXPIRED
    assert expire(entry, T0 + 150) is entry
    assert expire(entry, T0 + 250).status is EntryStatus.EXPIRED
    with pytest.raises(TransitionError, match="got expired"):
        withdraw(entry, "李四", "late", T0 + 300)
    assert DISPOSITION_STATUS[EntryStatus.EXPIRED] == 2


@pytest.mark.parametrize(("scope", "camera", "group", "expected"), [
    ("all", "cam-1", None, True),
    ("", "cam-1", "gate", True),
    ("camera:cam-1", "cam-1", None, True),
    ("camera:cam-1", "cam-2", None, False),
    ("group:gate", "cam-2", "gate", True),
    ("group:gate", "cam-2", "lobby", False),
    ("area:110105", GB_CAMERA, None, True),
    ("area:1101", GB_CAMERA, None, True),
    ("area:11", GB_CAMERA, None, True),
    ("area:110100", GB_CAMERA, None, True),      # city written as 6 digits
    ("area:110000", GB_CAMERA, None, True),      # province written as 6 digits
    ("area:110106", GB_CAMERA, None, False),
    ("area:31", GB_CAMERA, None, False),
    ("area:11", "cam-1", None, False),           # no GB/T 28181 id: in no area
    ("group:gate; area:31；camera:x", GB_CAMERA, "gate", True),
])
def test_scope(scope: str, camera: str, group: str | None, expected: bool) -> None:
    entry = deploy(_request(scope=parse_scope(scope)))
    assert in_scope(entry, camera, group) is expected


@pytest.mark.parametrize(("text", "why"), [
    ("area:1101x", "2, 4 or 6 digits"), ("area:123", "2, 4 or 6 digits"),
    ("zone:a", "is not camera:ID"), ("group:", "is not camera:ID"), ("all;group:a", "'all'"),
])
def test_bad_scope(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_scope(text)


def test_scope_text_round_trip() -> None:
    scope = Scope(("c1",), ("g1", "g2"), ("1101",))
    assert str(scope) == "camera:c1;group:g1;group:g2;area:1101"
    assert parse_scope(str(scope)) == scope
    assert str(Scope()) == "all" and parse_scope("all") == Scope()


def _list() -> Watchlist:
    return Watchlist([
        deploy(_request(entry_id="stolen")),
        deploy(_request(entry_id="gate-only", level=3, scope=parse_scope("group:gate"))),
        deploy(_request(entry_id="later", level=2, valid_from=T0 + 1000)),
        deploy(_request(entry_id="pending", requires_approval=True)),
        deploy(_request(entry_id="pattern", target="京A12*", level=4)),
        deploy(_request(entry_id="other", target="沪B88888")),
    ])


def test_hits_filter_by_time_scope_and_status() -> None:
    wl = _list()
    assert [h.entry.entry_id for h in wl.hits("京A12345", "cam-1", None, T0)] == [
        "stolen", "pattern"]
    assert [h.entry.entry_id for h in wl.hits("京A12345", "cam-1", "gate", T0 + 1000)] == [
        "stolen", "later", "gate-only", "pattern"]          # same distance: level order
    (hit,) = wl.hits("沪B8888B", "cam-1", None, T0)
    assert hit.entry.entry_id == "other" and hit.match.distance == pytest.approx(0.3)
    entry, match = hit                                   # a hit is an (entry, match) pair
    assert entry is hit.entry and match is hit.match


def test_put_approve_withdraw_updates_hits() -> None:
    wl = _list()
    wl.put(approve(wl.get("pending"), "李四", T0))
    assert "pending" in {h.entry.entry_id for h in wl.hits("京A12345", "c", None, T0)}
    wl.put(withdraw(wl.get("stolen"), "李四", "找回", T0))
    assert "stolen" not in {h.entry.entry_id for h in wl.hits("京A12345", "c", None, T0)}
    assert wl.get("stolen").status is EntryStatus.WITHDRAWN and "stolen" in wl
    wl.remove("other")
    assert "other" not in wl and wl.hits("沪B88888", "c", None, T0) == []
    assert len(wl) == 5 and set(wl.entries) == {"stolen", "gate-only", "later", "pending",
                                                 "pattern"}


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(WatchlistError, match="e1 is used twice"):
        Watchlist([deploy(_request(entry_id="e1")), deploy(_request(entry_id="e1"))])
