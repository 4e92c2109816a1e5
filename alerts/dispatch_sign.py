"""Standard Webhooks 1.0 signing and verification (docs/integration.md §4).

Every delivery carries three headers::

    webhook-id:        msg_...        the same on every retry of one delivery
    webhook-timestamp: 1700000000     unix seconds of *this* attempt
    webhook-signature: v1,<base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))>

The id makes a retry recognisable (receivers de-duplicate on it); the timestamp is signed so
a captured request cannot be replayed later than ``tolerance`` seconds; the body is signed
byte for byte, so receivers must verify the raw bytes *before* parsing JSON or XML.
``webhook-signature`` may hold several space-separated signatures (key rotation): one valid
``v1`` signature is enough. The key comes from :func:`core.config.dispatch.secret_key`
(``whsec_`` base64 form or a raw secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

from core.config.dispatch import secret_key
from core.errors import FatalError

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
DEFAULT_TOLERANCE = 300.0
"""Seconds of clock difference accepted either way (the Standard Webhooks default)."""


class SignatureError(FatalError):
    """A webhook failed verification: missing header, stale timestamp or wrong signature."""


def _bytes(body: str | bytes) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def signature(webhook_id: str, timestamp: int, body: str | bytes, secret: str) -> str:
    """The ``webhook-signature`` value (``v1,<base64>``) for one attempt."""
    content = f"{webhook_id}.{timestamp}.".encode() + _bytes(body)
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(webhook_id: str, timestamp: int, body: str | bytes,
                 secret: str) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        ID_HEADER: webhook_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(webhook_id, timestamp, body, secret),
    }


def verify(headers: Mapping[str, str], body: str | bytes, secret: str,
           tolerance: float = DEFAULT_TOLERANCE, now: float | None = None) -> str:
    """Check a signed request; returns its ``webhook-id``.

    ``headers`` may be any mapping (header names are matched case-insensitively); ``body`` is
    the raw request body. ``now`` defaults to the system time (pass the injected clock's).
    Raises :class:`SignatureError` saying which check failed.
    """
    lower = {key.lower(): value for key, value in headers.items()}
    missing = [h for h in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER) if not lower.get(h)]
    if missing:
        raise SignatureError(f"missing header(s): {', '.join(missing)}")
    webhook_id, stamp = lower[ID_HEADER], lower[TIMESTAMP_HEADER].strip()
    if not stamp.isdigit():
        raise SignatureError(f"webhook-timestamp {stamp!r} is not unix seconds")
    skew = (time.time() if now is None else now) - int(stamp)
    if abs(skew) > tolerance:
        when = "old" if skew > 0 else "far in the future"
        raise SignatureError(f"webhook-timestamp is {abs(skew):.0f} s {when} "
                             f"(tolerance {tolerance:g} s)")
    expected = signature(webhook_id, int(stamp), body, secret)
    offered = lower[SIGNATURE_HEADER].split()
    if not any(hmac.compare_digest(expected, sig) for sig in offered if sig.startswith("v1,")):
        raise SignatureError("no valid v1 signature (wrong secret or body changed in transit)")
    return webhook_id
