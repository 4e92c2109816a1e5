"""Cross-checks that a single pydantic field cannot express (docs/architecture.md, rule 7).

Each check is a small named function over one validated :class:`Camera` (after the service
defaults are merged in) returning :data:`Finding` values: a key path *relative to the
camera* and a message that names the camera and says how to fix it. The loader adds the
file, line and ``cameras.N`` prefix. Checks never raise, so every problem is reported.

Decision on ``evidence_url == url``: an error, not a warning. It opens the same stream twice
(most cameras allow only a handful of RTSP sessions) and keeps a second packet ring of the
*sub* stream, while the operator believes evidence comes from the main stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.config.models import Camera, Point
from core.config.problems import KeyPath
from core.config.urls import SOURCE_SCHEMES, has_userinfo, is_network, url_scheme

Finding = tuple[KeyPath, str]
CameraCheck = Callable[[Camera], list[Finding]]

MIN_AREA = 1e-6
"""Smallest polygon area (normalised units: 1.0 = the whole frame) that is not "no area"."""
NEEDS_ZONES = ("intrusion", "loitering", "crowd")
NEEDS_LINES = ("line_crossing",)


def _who(camera: Camera) -> str:
    return f"camera '{camera.id}'"


def check_url_scheme(camera: Camera) -> list[Finding]:
    """``url``/``evidence_url`` use a scheme ingest can open, and network URLs name a host."""
    found: list[Finding] = []
    for key, url in (("url", camera.url), ("evidence_url", camera.evidence_url)):
        if url is None:
            continue
        scheme = url_scheme(url)
        if not url.strip():
            found.append(((key,), f"{_who(camera)}: {key} is empty; write a stream URL or a "
                                  "file path"))
        elif scheme not in SOURCE_SCHEMES:
            found.append(((key,), f"{_who(camera)}: unknown scheme '{scheme}' in {key}; use "
                                  "rtsp://, rtsps://, rtmp://, http(s)://, file:// or a file "
                                  "path"))
        elif is_network(url) and not urlsplit(url).hostname:
            found.append(((key,), f"{_who(camera)}: {key} has no host; write "
                                  f"{scheme}://HOST[:PORT]/PATH"))
    return found


def check_credentials(camera: Camera) -> list[Finding]:
    """``username``/``password`` are usable: with a network URL, not twice, user first."""
    who = _who(camera)
    if camera.password and not camera.username:
        return [(("password",), f"{who}: password without username; add username")]
    if not camera.username:
        return []
    urls = [u for u in (camera.url, camera.evidence_url) if u is not None]
    if not any(is_network(u) for u in urls):
        return [(("username",), f"{who}: username/password given but url is a file; "
                                "remove them")]
    if any(has_userinfo(u) for u in urls):
        return [(("username",), f"{who}: credentials both in the URL and in username/"
                                "password; keep only username/password")]
    return []


def check_evidence_url(camera: Camera) -> list[Finding]:
    """The evidence stream is a different stream from the analytics one (see module doc)."""
    if camera.evidence_url is None or camera.evidence_url.strip() != camera.url.strip():
        return []
    return [(("evidence_url",), f"{_who(camera)}: evidence_url is the same as url, which "
                                "opens one stream twice; set it to the main stream or remove "
                                "it")]


def check_lines(camera: Camera) -> list[Finding]:
    """A counting line needs two distinct end points."""
    return [(("lines", index), f"{_who(camera)}: line '{line.id}' has a == b; move b so the "
                               "line has a length")
            for index, line in enumerate(camera.lines) if line.a == line.b]


def polygon_area(points: Sequence[Point]) -> float:
    """Unsigned shoelace area in normalised units."""
    twice = 0.0
    for (x1, y1), (x2, y2) in zip(points, [*points[1:], points[0]], strict=True):
        twice += x1 * y2 - x2 * y1
    return abs(twice) / 2.0


def check_zones(camera: Camera) -> list[Finding]:
    """A zone whose points are all on one line (or repeated) can never contain anything."""
    return [(("zones", index, "polygon"), f"{_who(camera)}: zone '{zone.id}' polygon has zero "
                                          "area; give at least 3 points not on one line")
            for index, zone in enumerate(camera.zones) if polygon_area(zone.polygon) < MIN_AREA]


def check_analytics_shapes(camera: Camera) -> list[Finding]:
    """Zone and line analytics need something to watch, or they silently never fire."""
    found: list[Finding] = []
    for index, name in enumerate(camera.analytics):
        if name in NEEDS_LINES and not camera.lines:
            found.append((("analytics", index), f"{_who(camera)}: '{name}' is enabled but no "
                                                "lines are defined; add lines: or remove it"))
        if name in NEEDS_ZONES and not camera.zones:
            found.append((("analytics", index), f"{_who(camera)}: '{name}' is enabled but no "
                                                "zones are defined; add zones: or remove it"))
    return found


def check_schedule(camera: Camera) -> list[Finding]:
    """A window must start before it ends; overnight windows are written as two."""
    return [(("schedule", index), f"{_who(camera)}: schedule window {window.start}-{window.end}"
                                  " does not start before it ends; split an overnight window "
                                  "into two (e.g. 22:00-24:00 and 00:00-06:00)")
            for index, window in enumerate(camera.schedule) if window.start >= window.end]


def check_backoff(camera: Camera) -> list[Finding]:
    """The first reconnect delay cannot exceed the longest one."""
    ingest = camera.ingest
    if ingest.backoff_base <= ingest.backoff_cap:
        return []
    return [(("ingest", "backoff_base"), f"{_who(camera)}: backoff_base {ingest.backoff_base} "
                                         f"is above backoff_cap {ingest.backoff_cap}; lower "
                                         "backoff_base or raise backoff_cap")]


CAMERA_CHECKS: tuple[CameraCheck, ...] = (
    check_url_scheme, check_credentials, check_evidence_url, check_lines, check_zones,
    check_analytics_shapes, check_schedule, check_backoff,
)


def check_camera(camera: Camera) -> list[Finding]:
    """Run every per-camera check, in a fixed order."""
    return [finding for check in CAMERA_CHECKS for finding in check(camera)]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where one camera was defined: its id key's file and line."""

    camera_id: str
    file: str
    line: int
    path: KeyPath


def check_duplicate_ids(origins: Sequence[Origin]) -> list[tuple[Origin, str]]:
    """Camera ids are unique across all files; each repeat is reported at the repeat and
    names where the id was first defined."""
    first: dict[str, Origin] = {}
    found: list[tuple[Origin, str]] = []
    for origin in origins:
        seen = first.setdefault(origin.camera_id, origin)
        if seen is not origin:
            found.append((origin, f"duplicate camera id '{origin.camera_id}', also defined at "
                                  f"{seen.file}:{seen.line}; give each camera its own id"))
    return found
