"""Pure units: cross-checks, ``${VAR}`` expansion and effective URLs, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from core.config.checks import (
    Origin,
    check_backoff,
    check_camera,
    check_credentials,
    check_duplicate_ids,
    check_url_scheme,
    polygon_area,
)
from core.config.envvars import expand_env, expand_string
from core.config.models import Camera, IngestOptions, Point
from core.config.urls import effective_evidence_url, effective_url, url_scheme, with_credentials


def cam(**fields: Any) -> Camera:
    base: dict[str, Any] = {"id": "c1", "name": "C1", "url": "rtsp://10.0.0.5/sub"}
    return Camera.model_validate({**base, **fields})


def test_valid_camera_has_no_findings() -> None:
    camera = cam(evidence_url="rtsp://10.0.0.5/main", username="u", password="p",
                 analytics=["intrusion", "line_crossing"],
                 zones=[{"id": "z", "polygon": [[0, 0], [1, 0], [0, 1]]}],
                 lines=[{"id": "l", "a": [0, 0], "b": [1, 1]}],
                 schedule=[{"start": "00:00", "end": "24:00"}])
    assert check_camera(camera) == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("rtsp://h/x", None),
        ("rtsps://h/x", None),
        ("rtmp://h/live", None),
        ("https://h/x.m3u8", None),
        ("file:///srv/a.mp4", None),
        ("var/demo/demo.mp4", None),
        ("C:\\video\\a.mp4", None),
        ("", "camera 'c1': url is empty; write a stream URL or a file path"),
        ("udp://h:1234", "camera 'c1': unknown scheme 'udp' in url; use rtsp://, rtsps://, "
                         "rtmp://, http(s)://, file:// or a file path"),
        ("rtsp:///x", "camera 'c1': url has no host; write rtsp://HOST[:PORT]/PATH"),
    ],
)
def test_url_scheme(url: str, message: str | None) -> None:
    expected = [] if message is None else [(("url",), message)]
    assert check_url_scheme(cam(url=url)) == expected


@pytest.mark.parametrize(
    ("fields", "finding"),
    [
        ({"password": "p"}, (("password",), "camera 'c1': password without username; "
                                            "add username")),
        ({"url": "a.mp4", "username": "u"},
         (("username",), "camera 'c1': username/password given but url is a file; "
                         "remove them")),
        ({"url": "rtsp://x:y@h/s", "username": "u"},
         (("username",), "camera 'c1': credentials both in the URL and in username/password; "
                         "keep only username/password")),
    ],
)
def test_credentials(fields: dict[str, Any], finding: tuple[tuple[str], str]) -> None:
    assert check_credentials(cam(**fields)) == [finding]


def test_backoff_base_above_cap() -> None:
    camera = cam(ingest=IngestOptions(backoff_base=8.0, backoff_cap=2.0))
    assert check_backoff(camera) == [(("ingest", "backoff_base"), (
        "camera 'c1': backoff_base 8.0 is above backoff_cap 2.0; lower backoff_base or raise "
        "backoff_cap"))]


@pytest.mark.parametrize(
    ("points", "area"),
    [
        ([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)], 1.0),
        ([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)], 0.5),
        ([(0.2, 0.2), (0.2, 0.2), (0.2, 0.2)], 0.0),
        ([(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)], 0.0),
    ],
)
def test_polygon_area(points: list[Point], area: float) -> None:
    assert polygon_area(points) == pytest.approx(area)


def test_duplicate_ids_name_both_places() -> None:
    origins = [Origin("a", "x.yaml", 2, ("cameras", 0, "id")),
               Origin("b", "x.yaml", 6, ("cameras", 1, "id")),
               Origin("a", "y.yaml", 3, ("cameras", 0, "id")),
               Origin("a", "z.yaml", 9, ("cameras", 4, "id"))]
    found = check_duplicate_ids(origins)
    assert [(o.file, m) for o, m in found] == [
        ("y.yaml", "duplicate camera id 'a', also defined at x.yaml:2; give each camera its "
                   "own id"),
        ("z.yaml", "duplicate camera id 'a', also defined at x.yaml:2; give each camera its "
                   "own id"),
    ]


ENV = {"HOST": "10.0.0.5", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "result", "problems"),
    [
        ("rtsp://${HOST}/sub", "rtsp://10.0.0.5/sub", []),
        ("${HOST}${HOST}", "10.0.0.510.0.0.5", []),
        ("${MISSING:-fallback}", "fallback", []),
        ("${EMPTY:-fallback}", "fallback", []),
        ("${HOST:-fallback}", "10.0.0.5", []),
        ("${MISSING:-}", "", []),
        ("${EMPTY}", "", []),
        ("pa$$word $x", "pa$$word $x", []),
        ("$${HOST}", "${HOST}", []),
        ("${MISSING}", "${MISSING}", ["environment variable MISSING is not set; export it or "
                                      "write ${MISSING:-default}"]),
        ("${1BAD}", "${1BAD}", ["bad variable reference '${1BAD}'; write ${NAME} or "
                                "${NAME:-default} (NAME: letters, digits, '_')"]),
        ("${HOST", "${HOST", ["'${' is not closed; write ${NAME}, or $${ for a literal '${'"]),
    ],
)
def test_expand_string(text: str, result: str, problems: list[str]) -> None:
    assert expand_string(text, ENV) == (result, problems)


def test_expand_env_walks_values_not_keys() -> None:
    data = {"${HOST}": "${HOST}", "list": [1, "${HOST}", {"x": "${NOPE}"}], "n": 3}
    expanded, findings = expand_env(data, ENV)
    assert expanded == {"${HOST}": "10.0.0.5", "list": [1, "10.0.0.5", {"x": "${NOPE}"}], "n": 3}
    assert findings == [(("list", 2, "x"), "environment variable NOPE is not set; export it or "
                                           "write ${NOPE:-default}")]


@pytest.mark.parametrize(
    ("url", "user", "password", "result"),
    [
        ("rtsp://h:554/s?x=1", "admin", "p:@/#", "rtsp://admin:p%3A%40%2F%23@h:554/s?x=1"),
        ("rtsp://[::1]:554/s", "admin", None, "rtsp://admin@[::1]:554/s"),
        ("rtsp://h/s", None, "p", "rtsp://h/s"),
        ("rtsp://h/s", "", "", "rtsp://h/s"),
        ("rtsp://o:x@h/s", "admin", "p", "rtsp://o:x@h/s"),
        ("var/demo.mp4", "admin", "p", "var/demo.mp4"),
        ("https://h/live.m3u8", "a", "b", "https://a:b@h/live.m3u8"),
    ],
)
def test_with_credentials(url: str, user: str | None, password: str | None,
                          result: str) -> None:
    assert with_credentials(url, user, password) == result


def test_effective_urls_of_a_camera() -> None:
    camera = cam(evidence_url="rtsp://10.0.0.5/main", username="u", password="p")
    assert effective_url(camera) == "rtsp://u:p@10.0.0.5/sub"
    assert effective_evidence_url(camera) == "rtsp://u:p@10.0.0.5/main"
    assert effective_evidence_url(cam()) is None


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("RTSP://h/x", "rtsp"), ("a.mp4", "file"), ("/srv/a.mp4", "file"),
     ("file:///a.mp4", "file"), ("D:/a.mp4", "file"), ("srt://h", "srt")],
)
def test_url_scheme_kinds(url: str, scheme: str) -> None:
    assert url_scheme(url) == scheme
