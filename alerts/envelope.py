"""The alert envelope: the JSON body 110 dispatch targets receive (docs/integration.md §4).

One function builds it from an :class:`~core.messages.Alert` and, when the alert is stored,
its :class:`~core.store.AlertRecord` (current state and workflow timestamps). The contract
(docs/dispatch.md) is what receivers code against, so its choices are fixed here:

* **Times** are ISO 8601 strings at the fixed offset ``+08:00`` (China has no daylight
  saving time), whole seconds, e.g. ``2023-11-15T06:13:20+08:00``; ``null`` when unknown.
  One form everywhere: a dispatcher reads it aloud and a program parses it, and the offset
  makes it unambiguous. Sub-seconds are truncated (an event is never shown as later than it
  happened). The ``webhook-timestamp`` header stays unix seconds, as Standard Webhooks says.
* **Evidence** references become absolute URLs under ``evidence.public_base_url``; a
  reference that already is an ``http(s)`` URL is kept. A clip exists only when the
  sighting says which stretch of video to cut (``clip_from``/``clip_to``).
* ``alert_id`` is also the ``idempotency_key``: receivers may get a body more than once
  (at-least-once delivery) and must treat a repeated ``alert_id`` + ``type`` as the same.
* The body is frozen when it is queued: retries resend the same bytes under the same
  ``webhook-id``. A later state change is a new message (``type`` ``alert.updated`` or
  ``alert.cancelled``), sent only to targets that ask for updates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

from core.config.dispatch import EvidenceLinks
from core.gbid import parse_gb_id
from core.messages import Alert, AlertState, AlertTransition, Evidence, SceneEvent, Sighting
from core.store import AlertRecord, JsonObject, JsonValue

CHINA = timezone(timedelta(hours=8), "CST")
"""Asia/Shanghai as a fixed offset."""
VERSION = 1
RAISED, UPDATED, CANCELLED = "alert.raised", "alert.updated", "alert.cancelled"
"""Message types (``type`` in the envelope)."""


def iso_time(at: float | None) -> str | None:
    """``2023-11-15T06:13:20+08:00`` for POSIX seconds ``at`` (``None`` stays ``None``)."""
    if at is None:
        return None
    local = datetime.fromtimestamp(at, UTC).astimezone(CHINA).replace(microsecond=0)
    return local.isoformat()


def message_type(update: AlertTransition | None) -> str:
    """``alert.raised`` for the first message, then updated/cancelled by the new state."""
    if update is None:
        return RAISED
    return CANCELLED if update.to_state == AlertState.DISMISSED else UPDATED


def evidence_url(links: EvidenceLinks, ref: str | None) -> str | None:
    """An absolute URL for an evidence reference (a stored path or already a URL)."""
    if not ref:
        return None
    if ref.startswith(("http://", "https://")):
        return ref
    return f"{links.public_base_url}/{quote(ref.lstrip('/'), safe='/')}"


def clip_url(links: EvidenceLinks, alert: Alert) -> str:
    path = links.clip_path.format(alert_id=alert.alert_id, camera_id=alert.camera_id)
    return f"{links.public_base_url}/{quote(path.lstrip('/'), safe='/')}"


def _evidence_of(alert: Alert) -> Evidence | None:
    obs = alert.observation
    return obs.evidence if isinstance(obs, Sighting | SceneEvent) else None


def _evidence(alert: Alert, links: EvidenceLinks) -> JsonObject:
    ev = _evidence_of(alert)
    if ev is None:
        return {"snapshot_url": None, "plate_crop_url": None, "clip": None}
    clip: JsonValue = None
    if ev.clip_from is not None:
        clip = {
            "url": clip_url(links, alert), "from": iso_time(ev.clip_from),
            "to": iso_time(ev.clip_to),
            "pre_event_seconds": round(max(0.0, alert.raised_at - ev.clip_from), 3),
            "post_event_seconds": (None if ev.clip_to is None
                                   else round(max(0.0, ev.clip_to - alert.raised_at), 3)),
        }
    return {"snapshot_url": evidence_url(links, ev.snapshot),
            "plate_crop_url": evidence_url(links, ev.plate_crop), "clip": clip}


def _plate(alert: Alert) -> JsonValue:
    obs = alert.observation
    if not isinstance(obs, Sighting) or not obs.plate:
        return None
    return {"normalized": obs.plate, "raw": obs.plate_raw, "type": obs.plate_type,
            "color": obs.color, "confidence": round(obs.confidence, 4)}


def _camera(alert: Alert) -> JsonObject:
    gb_id = alert.camera_id if parse_gb_id(alert.camera_id) is not None else None
    return {"id": alert.camera_id, "gb_id": gb_id, "name": alert.camera_name,
            "address": alert.address}


def _location(alert: Alert) -> JsonValue:
    if alert.lon is None or alert.lat is None:
        return None
    return {"lon": alert.lon, "lat": alert.lat, "crs": alert.crs}


def _timestamps(alert: Alert, record: AlertRecord | None) -> JsonObject:
    r = record
    return {
        "created": iso_time(alert.raised_at),
        "pushed": iso_time(r.pushed_at if r else None),
        "signed": iso_time(r.signed_at if r else None),
        "disposed": iso_time(r.disposed_at if r else None),
        "feedback": iso_time(r.feedback_at if r else None),
        "closed": iso_time(r.closed_at if r else None),
        "dismissed": iso_time(r.dismissed_at if r else None),
    }


def _update(update: AlertTransition | None) -> JsonValue:
    if update is None:
        return None
    return {"from_state": update.from_state.value, "to_state": update.to_state.value,
            "by": update.by, "at": iso_time(update.at), "note": update.note}


def build_envelope(alert: Alert, links: EvidenceLinks, record: AlertRecord | None = None,
                   update: AlertTransition | None = None) -> JsonObject:
    """The envelope of ``alert`` (state and timestamps from ``record`` when given).

    ``update`` makes it an ``alert.updated``/``alert.cancelled`` message describing that
    transition; without it the message is ``alert.raised``.
    """
    current = record.alert if record is not None else alert
    return {
        "type": message_type(update), "version": VERSION,
        "alert_id": alert.alert_id, "idempotency_key": alert.alert_id,
        "rule_id": alert.rule_id, "disposition_id": alert.watchlist_entry_id,
        "category": alert.category, "level": alert.level, "state": current.state.value,
        "review_only": alert.review_only, "plate": _plate(alert), "camera": _camera(alert),
        "location": _location(alert), "event_time": iso_time(alert.raised_at),
        "evidence": _evidence(alert, links),
        "summary": {"zh": alert.summary_zh, "en": alert.summary_en},
        "timestamps": _timestamps(alert, record), "update": _update(update),
    }


def dumps(envelope: JsonObject) -> str:
    """The exact body text that is signed and sent: compact, UTF-8 characters kept as is."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
