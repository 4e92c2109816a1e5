"""Request bodies are capped per route while they stream in (413), error replies never
echo large input, and malformed text (lone surrogates) is a 4xx on every route
(issue 11, items 4 and 7). Real app, real SQLite store, in-process client and a real
uvicorn server for the streamed case."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx

from console.settings import ConsoleSettings
from core.config.models import Camera
from tests.console.live import serve
from tests.console.support import Rig
from tests.console.test_auth_api import api_routes, concrete

BIG = 70 * 1024
"""Over the 64 KiB JSON cap."""


async def test_login_refuses_a_big_body_by_its_length(rig: Rig, api: httpx.AsyncClient) -> None:
    body = json.dumps({"username": "a", "password": "x" * BIG}).encode()
    reply = await api.post("/api/login", content=body,
                           headers={"content-type": "application/json"})
    assert reply.status_code == 413, reply.status_code
    assert len(reply.content) < 1000


async def test_a_streamed_body_is_cut_off_without_being_read_whole(rig: Rig) -> None:
    """No Content-Length (chunked): the server answers 413 once the cap is passed and
    does not wait for (or buffer) the remaining 100 MB."""
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"username": "a", "password": "'
        for _ in range(100 * 16):
            sent += 64 * 1024
            yield b"x" * (64 * 1024)
            await asyncio.sleep(0)
        yield b'"}'

    async with serve(rig.app) as port, httpx.AsyncClient() as client:
        try:
            reply = await client.post(f"http://127.0.0.1:{port}/api/login", content=chunks(),
                                      headers={"content-type": "application/json"},
                                      timeout=30)
            assert reply.status_code == 413
        except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
            pass  # the server answered and closed while we were still writing: also a refusal
    assert sent < 20 * 1024 * 1024, sent


async def test_import_keeps_its_own_bigger_cap(rig: Rig, api: httpx.AsyncClient) -> None:
    """The CSV import is not held to the JSON cap (its cap is ``max_upload``)."""
    rows = "".join(f"京A{n:05d},stolen,3,{'r' * 60}\n" for n in range(1, 1500))
    text = "plate,category,level,reason\n" + rows
    assert len(text.encode()) > BIG
    reply = await api.post("/api/watchlists/import", content=text.encode(),
                           headers={**rig.auth("admin"), "content-type": "text/csv"})
    assert reply.status_code == 200, reply.text[:300]
    over = b"x" * (rig.app.state.console.settings.max_upload + 1)
    too_big = await api.post("/api/watchlists/import", content=over,
                             headers={**rig.auth("admin"), "content-type": "text/csv"})
    assert too_big.status_code == 413


async def test_validation_errors_do_not_echo_the_input(rig: Rig, api: httpx.AsyncClient) -> None:
    """A 60 KB field that fails validation comes back as a short message, not itself."""
    reply = await api.post("/api/users", headers=rig.auth("admin"),
                           json={"username": "a", "password": "p" * 60_000, "role": "admin"})
    assert reply.status_code == 422
    assert len(reply.content) < 2000, len(reply.content)
    assert "ppppp" not in reply.text
    assert reply.json()["detail"][0]["loc"][-1] == "password"


async def test_a_csv_with_many_problems_gets_a_bounded_reply(rig: Rig,
                                                             api: httpx.AsyncClient) -> None:
    """A header of 100,000 unknown columns (200 KB) used to come back as ~26 MB of lines."""
    header = "plate,category,level,reason," + ",".join(f"c{n}" for n in range(100_000))
    reply = await api.post("/api/watchlists/import", content=(header + "\n").encode(),
                           headers={**rig.auth("admin"), "content-type": "text/csv"})
    assert reply.status_code == 422
    assert len(reply.content) < 100_000, len(reply.content)
    lines = reply.json()["lines"]
    assert lines[0].startswith("console-import:1: c0: unknown column")
    assert "more problems" in lines[-1]


SURROGATE = b'"\\ud800"'


async def test_a_lone_surrogate_is_a_422_on_login(rig: Rig, api: httpx.AsyncClient) -> None:
    body = b'{"username": ' + SURROGATE + b', "password": "x"}'
    reply = await api.post("/api/login", content=body,
                           headers={"content-type": "application/json"})
    assert reply.status_code == 422, reply.text
    pair = b'{"username": "\\ud83d\\ude00", "password": "x"}'  # a valid pair is fine
    assert (await api.post("/api/login", content=pair,
                           headers={"content-type": "application/json"})).status_code == 401


async def test_no_route_answers_5xx_to_a_lone_surrogate(rig: Rig, api: httpx.AsyncClient
                                                        ) -> None:
    """Every JSON field of every body-taking route gets the surrogate; nothing may 500."""
    headers = {**rig.auth("admin"), "content-type": "application/json"}
    for method, path, _ in api_routes(rig):
        if method not in {"POST", "PATCH"}:
            continue
        for field in ("username", "password", "display_name", "name", "reason", "note",
                      "plate", "result", "alert_id", "status"):
            body = b'{"' + field.encode() + b'": ' + SURROGATE + b"}"
            reply = await api.request(method, concrete(path), content=body, headers=headers)
            assert reply.status_code < 500, (method, path, field, reply.text)


def test_settings_name_the_json_cap() -> None:
    assert ConsoleSettings().max_json == 64 * 1024


async def test_camera_api_masks_query_credentials(rig: Rig, api: httpx.AsyncClient) -> None:
    """Issue 11, item 9: ``/api/cameras`` shows no token from a camera URL's query."""
    rig.registry.set_cameras([Camera(id="hls-1", name="HLS",
                                     url="http://10.0.0.9/live.m3u8?token=TOPSECRET&ch=1")])
    body = (await api.get("/api/cameras", headers=rig.auth("monitor"))).text
    assert "TOPSECRET" not in body and "token=***&ch=1" in body
