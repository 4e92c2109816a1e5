"""Console-deployed and file entries in one watchlist, persisted in a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.watchlist_io import WatchlistWatcher
from alerts.watchlist_service import WatchlistService
from core.clock import FakeClock
from core.errors import ConfigError, RequestError
from core.store import open_store

T0 = 1_800_000_000.0


@pytest.fixture
def service(tmp_path: Path) -> WatchlistService:
    files = tmp_path / "watchlists"
    files.mkdir()
    (files / "a.csv").write_text("plate,category,level,reason\n京A12345,stolen,1,盗抢\n",
                                 encoding="utf-8")
    clock = FakeClock(T0)
    store = open_store(f"sqlite:///{tmp_path / 'v.db'}", clock)
    return WatchlistService(store, WatchlistWatcher(files), clock)


def plates(service: WatchlistService, at: float = T0) -> set[str]:
    return {h.entry.target for h in service.current().hits("京A12345", "cam", "g", at)} | {
        h.entry.target for h in service.current().hits("沪B88888", "cam", "g", at)}


def test_deploy_needs_approval_by_another_person_then_withdraw(service: WatchlistService) -> None:
    row = service.deploy({"plate": "沪B88888", "category": "wanted", "level": "2",
                          "reason": "在逃人员车辆", "requires_approval": "true"}, by="alice")
    assert row.status == "pending_approval" and row.applicant == "alice"
    assert plates(service) == {"京A12345"}
    with pytest.raises(RequestError, match="another person must approve"):
        service.approve(row.entry_id, by="alice")
    assert service.approve(row.entry_id, by="bob").status == "active"
    assert plates(service) == {"京A12345", "沪B88888"}
    assert service.withdraw(row.entry_id, by="bob", reason="已抓获").status == "withdrawn"
    assert plates(service) == {"京A12345"}


def test_bad_deploy_is_a_request_error_naming_fields(service: WatchlistService) -> None:
    with pytest.raises(RequestError) as info:
        service.deploy({"plate": "京AI2345", "category": "nope", "level": "9", "reason": ""},
                       by="alice")
    fields = {f for f, _ in info.value.problems}
    assert {"plate", "category", "level"} <= fields


def test_import_is_all_or_nothing_and_survives_a_restart(
    service: WatchlistService, tmp_path: Path
) -> None:
    bad = "plate,category,level,reason\n沪B88888,wanted,2,x\n京AI2345,stolen,1,y\n"
    with pytest.raises(ConfigError) as info:
        service.import_csv(bad, "upload.csv", by="alice")
    assert any(line.startswith("upload.csv:3: plate") for line in info.value.problems)
    assert plates(service) == {"京A12345"}
    service.import_csv("plate,category,level,reason\n沪B88888,wanted,3,x\n", "up.csv", "alice")
    assert plates(service) == {"京A12345", "沪B88888"}
    clock = FakeClock(T0)
    again = WatchlistService(open_store(f"sqlite:///{tmp_path / 'v.db'}", clock),
                             WatchlistWatcher(tmp_path / "watchlists"), clock)
    assert plates(again) == {"京A12345", "沪B88888"}
    assert "沪B88888" in again.export_csv()


@pytest.mark.slow  # waits for real expiry
def test_entries_expire_by_themselves(service: WatchlistService) -> None:
    row = service.deploy({"plate": "沪B88888", "category": "wanted", "level": "3",
                          "reason": "r", "valid_until": "20270201000000"}, by="alice")
    assert row.status == "active"
    later = 1_900_000_000.0
    assert plates(service, later) == {"京A12345"}
    assert {r.status for r in service.entries()[0] if r.entry_id == row.entry_id} == {"active"}
