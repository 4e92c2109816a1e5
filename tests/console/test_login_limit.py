"""The login limit holds under concurrency and across console processes, is not reset by
a forged ``X-Forwarded-For``, and failed logins are audited and logged (issue 11,
item 5). Real store (SQLite file shared by two apps; PostgreSQL when reachable), real
app, and a real uvicorn server for the header test."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from console.app import server_options
from console.settings import ConsoleSettings
from console.users import add_user
from tests.console.live import free_port
from tests.console.support import Rig, build_rig

WRONG = {"username": "carol", "password": "wrong-pass"}


def test_concurrent_guesses_get_five_tries_across_two_consoles(tmp_path: Path) -> None:
    """100 concurrent wrong passwords, split over two apps on one database: 5 are checked
    (401), the rest are refused (429). Before: the check and the record were separate
    transactions with a scrypt between them, so 42 of 100 got through."""
    first = build_rig(tmp_path)
    second = build_rig(tmp_path)  # another console process on the same store file
    add_user(first.store, "carol", "s3cret-pass", "monitor")
    codes: list[int] = []
    start = threading.Barrier(20)

    def guess(client: TestClient) -> None:
        start.wait()
        for _ in range(5):
            codes.append(client.post("/api/login", json=WRONG).status_code)

    with TestClient(first.app) as one, TestClient(second.app) as two:
        threads = [threading.Thread(target=guess, args=(c,)) for c in (one, two) * 10]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    first.store.close()
    second.store.close()
    assert sorted(set(codes)) == [401, 429] and codes.count(401) == 5, codes


async def test_failed_logins_are_audited_and_logged(rig: Rig, api: httpx.AsyncClient,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    add_user(rig.store, "carol", "s3cret-pass", "monitor")
    with caplog.at_level(logging.WARNING, logger="console.users"):
        assert (await api.post("/api/login", json=WRONG)).status_code == 401
        assert (await api.post("/api/login", json={"username": "nobody",
                                                   "password": "hunter22"})).status_code == 401
    failed = [e for e in rig.store.audit_log() if e.action == "login.failed"]
    assert {e.object for e in failed} == {"user:carol", "user:nobody"}
    assert all(isinstance(e.detail, dict) and e.detail["ip"] for e in failed)
    text = caplog.text
    assert "carol" in text and "nobody" in text and "failed login" in text
    assert "wrong-pass" not in text and "hunter22" not in text
    assert "wrong-pass" not in str([e.detail for e in rig.store.audit_log()])


async def _serve_and_guess(rig: Rig, headers: dict[str, str]) -> list[int]:
    port = free_port()
    config = uvicorn.Config(rig.app, host="127.0.0.1", port=port, log_level="warning",
                            **server_options())
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            codes = []
            for n in range(7):
                forged = {"X-Forwarded-For": f"10.0.0.{n}", **headers}
                codes.append((await client.post("/api/login", json=WRONG,
                                                headers=forged)).status_code)
            return codes
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(rig: Rig) -> None:
    """Loopback is not a trusted proxy unless configured: a fresh X-Forwarded-For per
    guess must not give a fresh count (before: uvicorn trusted 127.0.0.1 by default)."""
    add_user(rig.store, "carol", "s3cret-pass", "monitor")
    codes = await _serve_and_guess(rig, {})
    assert codes == [401] * 5 + [429] * 2, codes


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    settings = ConsoleSettings(live_dir=tmp_path, evidence_dir=tmp_path,
                               trusted_proxies=("127.0.0.0/8",))
    rig = build_rig(tmp_path, settings=settings)
    add_user(rig.store, "carol", "s3cret-pass", "monitor")
    try:
        codes = await _serve_and_guess(rig, {})
    finally:
        rig.store.close()
    assert codes == [401] * 7, codes  # seven clients behind the proxy, one guess each
