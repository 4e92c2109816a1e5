"""A smoke run of the console on the real PostgreSQL: login, alerts, a conflict, the event
log and the WebSocket replay (the store's own tests cover PostgreSQL in depth)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from console.users import add_user
from tests.console.live import open_feed, raise_alert, read_until, serve
from tests.console.support import Rig, build_rig, make_alert
from tests.core.store_support import pg_schema_url

pytest_plugins = ["tests.core.store_fixtures"]
pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_rig(tmp_path: Path, pg_database: str) -> Iterator[Rig]:
    rig = build_rig(tmp_path, store_url=pg_schema_url(pg_database))
    try:
        yield rig
    finally:
        rig.store.close()


async def test_console_on_postgresql(pg_rig: Rig) -> None:
    rig = pg_rig
    await asyncio.to_thread(add_user, rig.store, "alice", "s3cret-pass", "monitor")
    async with serve(rig.app) as port, httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}") as http:
        login = await http.post("/api/login", json={"username": "alice",
                                                    "password": "s3cret-pass"})
        assert login.status_code == 200, login.text
        alice = {"Authorization": f"Bearer {login.json()['token']}"}
        ws, feed = await open_feed(port, f"token={login.json()['token']}")
        records = [await raise_alert(rig.store, rig.bus, make_alert(n)) for n in range(3)]
        alert_id = records[0].alert.alert_id
        assert (await http.post(f"/api/alerts/{alert_id}/sign", headers=alice)).status_code == 200
        clash = await http.post(f"/api/alerts/{alert_id}/sign", headers=rig.auth("admin"))
        assert clash.status_code == 409 and clash.json()["claimed_by"] == "alice"
        await read_until(ws, feed, 4)
        assert feed.ids == [1, 2, 3, 4] and feed.kinds[-1] == "transition"
        await ws.close()
        await raise_alert(rig.store, rig.bus, make_alert(9))
        ws, again = await open_feed(port, f"token={login.json()['token']}&last_id=2")
        await read_until(ws, again, 5)
        assert again.ids == [3, 4, 5]
        await ws.close()
        page = (await http.get("/api/alerts", headers=alice)).json()
        assert len(page["items"]) == 4
        stats = (await http.get("/api/stats", headers=alice)).json()
        assert stats["alerts"]["total"] == 4
