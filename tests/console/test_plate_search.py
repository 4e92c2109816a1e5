"""Plate search (车辆查询) through the real app and store, on SQLite and PostgreSQL:
wildcards, time range, cameras and groups, colour, paging, CSV, evidence and bad input."""

from __future__ import annotations

import csv
import fnmatch
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from console.routes_search import encode_cursor
from core.store import Store
from core.store.plate_search import SightingRow, parse_pattern, pattern_keys, plate_keys
from tests.console.support import Rig, build_rig, sighting
from tests.core.store_support import pg_schema_url

pytest_plugins = ["tests.core.store_fixtures"]

T0 = 1_700_000_000.0
PLATES = ["京AB1C3D5", "京A1X3Y5", "京A12345", "沪C91234", "?A12345", "京AD12345", "粤B12399"]
"""Seen at T0, T0+100, ... at gate-3 (even n) or the skynet camera (odd n)."""
SKYNET = "34020000001320000001"


@pytest.fixture(params=["sqlite", "postgresql"])
def srig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    url = None
    if request.param == "postgresql":
        url = pg_schema_url(request.getfixturevalue("pg_database"))
    rig = build_rig(tmp_path, store_url=url)
    for n, plate in enumerate(PLATES):
        camera = "gate-3" if n % 2 == 0 else SKYNET
        found = sighting(n, plate=plate, at=T0 + 100 * n, camera=camera)
        if n == 6:
            found = replace(found, color="yellow")
        rig.store.add_sighting(found)
    try:
        yield rig
    finally:
        rig.store.close()


@pytest.fixture
async def sapi(srig: Rig) -> AsyncIterator[httpx.AsyncClient]:
    async with srig.client() as client:
        client.headers.update(srig.auth("monitor"))
        yield client


async def plates(api: httpx.AsyncClient, **params: object) -> list[str]:
    res = await api.get("/api/sightings/search", params=params)  # type: ignore[arg-type]
    assert res.status_code == 200, res.text
    return [row["plate"] for row in res.json()["items"]]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("京A?1?3?5", ["京AD12345", "京AB1C3D5"]),
    ("京a·?1?3?5", ["京AD12345", "京AB1C3D5"]),           # lower case and the separator dot
    ("*123*", ["粤B12399", "京AD12345", "?A12345", "沪C91234", "京A12345"]),
    ("*12345", ["京AD12345", "?A12345", "京A12345"]),
    ("?A12345", ["?A12345", "京A12345"]),   # an unread province matches only a hole
    ("京A12345", ["京A12345"]),
    ("京A*5", ["京AD12345", "京A12345", "京A1X3Y5", "京AB1C3D5"]),
    ("*Z*", []),
])
async def test_wildcards(sapi: httpx.AsyncClient, pattern: str, expected: list[str]) -> None:
    assert await plates(sapi, plate=pattern) == expected


async def test_time_range_cameras_group_and_colour(sapi: httpx.AsyncClient) -> None:
    assert await plates(sapi, plate="*", **{"from": T0 + 100, "to": T0 + 300}) == [
        "京A12345", "京A1X3Y5"]                      # from inclusive, to exclusive
    assert await plates(sapi, plate="京*", camera="gate-3") == ["京A12345", "京AB1C3D5"]
    assert await plates(sapi, group="skynet") == ["京AD12345", "沪C91234", "京A1X3Y5"]
    both = await sapi.get("/api/sightings/search",
                          params=[("camera", "gate-3"), ("camera", SKYNET), ("plate", "*5")])
    assert len(both.json()["items"]) == 5
    assert await plates(sapi, color="yellow") == ["粤B12399"]
    assert await plates(sapi, plate_type="small", plate="粤*") == ["粤B12399"]


async def test_rows_carry_camera_name_and_evidence(sapi: httpx.AsyncClient,
                                                   srig: Rig) -> None:
    row = (await sapi.get("/api/sightings/search", params={"plate": "沪C91234"})).json()[
        "items"][0]
    assert row["camera_name"] == "人民路与建设路口" and row["seen_at"] == T0 + 300
    assert row["confidence"] == pytest.approx(0.93) and row["color"] == "blue"
    assert row["snapshot_url"] == "/api/sightings/s-3/evidence/snapshot"
    assert (await sapi.get(row["snapshot_url"])).status_code == 404  # no file yet
    folder = srig.app.state.console.settings.evidence_dir / "snap"
    folder.mkdir(parents=True)
    (folder / "3.jpg").write_bytes(b"\xff\xd8jpeg")
    picture = await sapi.get(row["snapshot_url"])
    assert picture.status_code == 200 and picture.content == b"\xff\xd8jpeg"
    assert (await sapi.get("/api/sightings/nope/evidence/plate")).status_code == 404


async def test_paging_with_a_cursor_sees_each_row_once(sapi: httpx.AsyncClient,
                                                       srig: Rig) -> None:
    seen: list[str] = []
    params: dict[str, object] = {"plate": "*", "limit": 3}
    while True:
        page = (await sapi.get("/api/sightings/search", params=params)).json()  # type: ignore[arg-type]
        seen += [row["sighting_id"] for row in page["items"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        params["cursor"] = page["next_cursor"]
        # a new sighting arriving meanwhile lands on top and does not shift later pages
        srig.store.add_sighting(sighting(100 + len(seen), plate="京A00000", at=T0 + 10_000))
    assert seen == [f"s-{n}" for n in reversed(range(len(PLATES)))]


async def test_csv_export(sapi: httpx.AsyncClient, srig: Rig) -> None:
    srig.store.add_sighting(replace(sighting(50, plate="京A99999", at=T0 + 50),
                                    camera_id="=cmd|' /C calc'!A0"))
    res = await sapi.get("/api/sightings/search", params={"plate": "京A*", "format": "csv",
                                                           "limit": 1})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    assert res.headers["x-vigil-rows"] == "5" and res.headers["x-vigil-truncated"] == "false"
    text = res.content.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][:3] == ["seen_at", "plate", "plate_raw"]
    assert [r[1] for r in table[1:]] == ["京AD12345", "京A12345", "京A1X3Y5", "京A99999",
                                         "京AB1C3D5"]  # every page, not just limit=1
    assert table[1][0] == "2023-11-15T06:21:40+08:00"  # Asia/Shanghai
    assert table[4][6] == "'=cmd|' /C calc'!A0"          # formula escaped


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"plate": "京A%12"}, "plate", "not '%'"),
    ({"plate": "京A_12"}, "plate", "not '_'"),
    ({"plate": "·"}, "plate", "empty"),
    ({"plate": "京" * 33}, "plate", "at most 32"),
    ({"from": T0 + 10, "to": T0}, "to", "after its start"),
    ({"group": "nowhere"}, "group", "group 'nowhere'"),
    ({"cursor": "!!!"}, "cursor", "not a cursor"),
    ({"color": "Blue;drop"}, "color", "pattern"),
])
async def test_bad_input_is_a_clear_422(sapi: httpx.AsyncClient, params: dict[str, object],
                                        field: str, words: str) -> None:
    res = await sapi.get("/api/sightings/search", params=params)  # type: ignore[arg-type]
    assert res.status_code == 422, res.text
    detail = res.json()["detail"][0]
    assert detail["loc"][-1] == field and words in detail["msg"], detail


async def test_search_needs_a_token(srig: Rig) -> None:
    async with srig.client() as client:
        assert (await client.get("/api/sightings/search")).status_code == 401


def test_keys_function_agrees_with_python(srig: Rig) -> None:
    """The SQL keys function (PostgreSQL) is what :func:`plate_keys` computes, and every
    pattern's keys are among a matching plate's keys."""
    store: Store = srig.store
    for plate in PLATES:
        keys = set(plate_keys(plate))
        if store.dialect == "postgresql":
            with store.read() as conn:
                sql_keys = conn.execute(sa.text("SELECT vigil_plate_keys(:p)"), {"p": plate})
                assert set(sql_keys.scalar_one()) == keys
        for pattern in ("京A?1?3?5", "*123*", "?A*45", "*1?3*", plate):
            if parse_pattern(pattern).like and _like(plate, pattern):
                assert set(pattern_keys(parse_pattern(pattern).text)) <= keys, (plate, pattern)


def _like(plate: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(plate, pattern.replace("[", "[[]"))


async def test_nul_characters_are_refused_not_a_server_error(sapi: httpx.AsyncClient) -> None:
    """PostgreSQL text cannot hold NUL: such input must be a 422/404, never a 500."""
    res = await sapi.get("/api/sightings/search", params={"camera": "gate\x00"})
    assert res.status_code == 422 and res.json()["detail"][0]["loc"][:2] == ["query", "camera"]
    cursor = encode_cursor(SightingRow("s\x00", "c", "p", "p", "t", "blue", 1.0, T0, T0, None,
                                       None))
    assert (await sapi.get("/api/sightings/search", params={"cursor": cursor})).status_code == 422
    assert (await sapi.get("/api/sightings/s%00/evidence/snapshot")).status_code == 404
