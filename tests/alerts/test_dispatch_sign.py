"""Standard Webhooks signing: the specification's test vector, verification failures, and
the retry policy table (what each answer means)."""

from __future__ import annotations

import base64

import pytest

from alerts.dispatch_retry import MAX_RETRY_AFTER, Outcome, classify, retry_after
from alerts.dispatch_sign import SignatureError, sign_headers, signature, verify
from core.config.dispatch import secret_key

# The Standard Webhooks specification's published example (id, timestamp, body, secret).
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_reproduces_the_specification_vector() -> None:
    assert signature(VECTOR_ID, VECTOR_TS, VECTOR_BODY, VECTOR_SECRET) == VECTOR_SIGNATURE
    assert signature(VECTOR_ID, VECTOR_TS, VECTOR_BODY.encode(), VECTOR_SECRET) == (
        VECTOR_SIGNATURE)


def test_whsec_and_raw_secrets() -> None:
    assert secret_key(VECTOR_SECRET) == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert secret_key("shared passphrase 口令") == "shared passphrase 口令".encode()
    for bad in ("whsec_not*base64", "whsec_", ""):
        with pytest.raises(ValueError):
            secret_key(bad)


def test_verify_accepts_any_case_and_rotated_signatures() -> None:
    headers = sign_headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY, VECTOR_SECRET)
    upper = {k.upper(): v for k, v in headers.items()}
    assert verify(upper, VECTOR_BODY, VECTOR_SECRET, now=VECTOR_TS + 10) == VECTOR_ID
    rotated = {**headers, "webhook-signature": "v1,b2xkIGtleQ== " + headers["webhook-signature"]}
    assert verify(rotated, VECTOR_BODY.encode(), VECTOR_SECRET, now=VECTOR_TS) == VECTOR_ID


@pytest.mark.parametrize(("change", "message"), [
    ({"webhook-signature": "v1,AAAA"}, "no valid v1 signature"),
    ({"webhook-signature": "v1a,whatever"}, "no valid v1 signature"),
    ({"webhook-id": "msg_other"}, "no valid v1 signature"),
    ({"webhook-timestamp": str(VECTOR_TS - 301)}, "old"),
    ({"webhook-timestamp": str(VECTOR_TS + 301)}, "future"),
    ({"webhook-timestamp": "yesterday"}, "not unix seconds"),
    ({"webhook-id": ""}, "missing header"),
])
def test_verify_rejects(change: dict[str, str], message: str) -> None:
    headers = sign_headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY, VECTOR_SECRET) | change
    with pytest.raises(SignatureError, match=message):
        verify(headers, VECTOR_BODY, VECTOR_SECRET, now=VECTOR_TS)


def test_verify_rejects_a_changed_body_and_the_wrong_secret() -> None:
    headers = sign_headers(VECTOR_ID, VECTOR_TS, VECTOR_BODY, VECTOR_SECRET)
    with pytest.raises(SignatureError):
        verify(headers, VECTOR_BODY + " ", VECTOR_SECRET, now=VECTOR_TS)
    with pytest.raises(SignatureError):
        verify(headers, VECTOR_BODY, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", now=VECTOR_TS)


@pytest.mark.parametrize(("status", "delivered", "retryable"), [
    (200, True, False), (202, True, False), (204, True, False),
    (408, False, True), (425, False, True), (429, False, True),
    (500, False, True), (502, False, True), (503, False, True), (504, False, True),
    (301, False, False), (400, False, False), (401, False, False), (403, False, False),
    (404, False, False), (410, False, False), (413, False, False), (422, False, False),
])
def test_status_policy(status: int, delivered: bool, retryable: bool) -> None:
    outcome = classify(status, "<html> busy\n</html>", 12.0)
    assert (outcome.delivered, outcome.retryable, outcome.status) == (delivered, retryable,
                                                                       status)
    if not delivered:
        assert outcome.error.startswith(f"HTTP {status}")
    if retryable:
        assert outcome.retry_after == 12.0


def test_error_text_is_a_short_single_line() -> None:
    outcome = classify(400, "bad\n\n  field " + "x" * 1000)
    assert outcome == Outcome(False, False, outcome.error, 400)
    assert "\n" not in outcome.error and len(outcome.error) < 300


@pytest.mark.parametrize(("value", "seconds"), [
    (None, None), ("", None), ("soon", None), ("30", 30.0), ("999999", MAX_RETRY_AFTER),
    ("Wed, 15 Nov 2023 00:00:30 GMT", 30.0), ("Wed, 15 Nov 2023 00:00:00 GMT", 0.0),
    ("Tue, 14 Nov 2023 00:00:00 GMT", 0.0),
])
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert retry_after(value, now=1_700_006_400.0) == seconds  # 2023-11-15 00:00:00 UTC
