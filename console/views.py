"""The JSON shapes the console sends (REST bodies and WebSocket ``data``), one function each.

:func:`alert_json` is THE alert shape: REST responses and WebSocket envelopes both use it,
and ``docs/console-api.md`` documents it field by field for the web page. The pydantic
models in :mod:`console.schemas` describe the same shapes for OpenAPI; a test checks that
what these functions build validates against those models with ``extra="forbid"``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import quote

import pydantic

from console.settings import SlaDue
from core import codec
from core.messages import Alert, Evidence, Observation, Sighting
from core.store import AlertRecord, AuditEntry, DispatchItem, TimelineEntry, WatchlistRow
from core.store.users import TokenRow, UserRow

EVIDENCE_KINDS = ("snapshot", "plate", "clip")
"""The evidence an alert may have; ``/api/alerts/{id}/evidence/{kind}`` serves each."""

DEFAULT_SLA = SlaDue()
_OBSERVATION: pydantic.TypeAdapter[Observation] = pydantic.TypeAdapter(Observation)


def observation_json(obs: Observation) -> dict[str, Any]:
    """The observation that raised an alert: its wire ``type`` (``sighting``, ``event``,
    ``camera_status``) plus its fields, evidence references included."""
    data: dict[str, Any] = _OBSERVATION.dump_python(obs, mode="json")
    return {"type": codec.wire_name(obs), **data}


def evidence_ref(alert: Alert, kind: str) -> str | None:
    """Where ``kind`` of the alert's evidence is, relative to the evidence dir: the
    ``snapshot``, ``plate_crop`` and ``clip`` refs of ``observation.evidence``."""
    evidence: Evidence | None = getattr(alert.observation, "evidence", None)
    if evidence is None:
        return None
    refs = {"snapshot": evidence.snapshot, "plate": evidence.plate_crop, "clip": evidence.clip}
    return refs.get(kind)


def alert_json(record: AlertRecord, sla: SlaDue = DEFAULT_SLA) -> dict[str, Any]:
    """One alert as the console shows it (documented in docs/console-api.md)."""
    a = record.alert
    base = f"/api/alerts/{quote(a.alert_id, safe='')}/evidence"
    return {
        "alert_id": a.alert_id, "seq": record.seq, "rule_id": a.rule_id, "level": a.level,
        "category": a.category, "state": a.state.value, "claimed_by": record.claimed_by,
        "subject": a.subject, "summary_zh": a.summary_zh, "summary_en": a.summary_en,
        "camera_id": a.camera_id, "camera_name": a.camera_name, "address": a.address,
        "lon": a.lon, "lat": a.lat, "crs": a.crs, "raised_at": a.raised_at,
        "review_only": a.review_only, "watchlist_entry_id": a.watchlist_entry_id,
        "observation": observation_json(a.observation),
        "evidence": {k: (f"{base}/{k}" if evidence_ref(a, k) else None) for k in EVIDENCE_KINDS},
        "sla": {
            "sign_due_at": a.raised_at + sla.sign,
            "feedback_due_at": (record.signed_at + sla.feedback
                                if record.signed_at is not None else None),
        },
        "timestamps": {
            "raised_at": a.raised_at, "pushed_at": record.pushed_at,
            "signed_at": record.signed_at, "disposed_at": record.disposed_at,
            "feedback_at": record.feedback_at, "closed_at": record.closed_at,
            "dismissed_at": record.dismissed_at,
        },
    }


def timeline_json(entry: TimelineEntry) -> dict[str, Any]:
    return {"seq": entry.seq, "kind": entry.kind, "from_state": entry.from_state.value,
            "to_state": entry.to_state.value, "by": entry.by, "at": entry.at,
            "note": entry.note, "detail": entry.detail}


def dispatch_json(item: DispatchItem) -> dict[str, Any]:
    data = asdict(item)
    data["state"] = item.state.value
    return data


def sighting_json(sighting: Sighting) -> dict[str, Any]:
    data: dict[str, Any] = _OBSERVATION.dump_python(sighting, mode="json")
    return data


def watchlist_json(row: WatchlistRow) -> dict[str, Any]:
    """A watchlist entry without the owning module's private ``entry`` blob."""
    data = asdict(row)
    data.pop("entry", None)
    return data


def user_json(user: UserRow) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "disabled": user.disabled, "created_at": user.created_at,
            "updated_at": user.updated_at}


def token_json(token: TokenRow, role: str | None = None) -> dict[str, Any]:
    """An API token without its hash (the secret is shown once, at creation). ``role``: the
    role it acts with now, when that is not the stored one (a user's token, after the user's
    role changed)."""
    return {"id": token.id, "name": token.name, "username": token.username,
            "role": role or token.role,
            "created_by": token.created_by, "created_at": token.created_at,
            "expires_at": token.expires_at, "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at}


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return asdict(entry)
