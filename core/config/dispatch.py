"""Configuration of 110 dispatch: targets, evidence links, CAP options (``dispatch:`` key).

Every model forbids unknown keys (docs/architecture.md rule 7), so ``max_attemps: 3`` is an
error at its line, not a target that silently retries forever. Secrets arrive already
expanded by the config loader (``secret: ${DISPATCH_110_SECRET}``); here they are plain
strings that are never shown in ``repr`` (a logged config must not leak them). The module
imports only ``core`` and pydantic, so it can move to ``core/config`` unchanged if the
service model (which ``core`` owns) is to embed it.

Cross-field checks that protect delivery itself live here as named validators:

* ``lease`` must outlast one batch of attempts, or a second worker would take over rows
  still in flight and every alert would be sent twice;
* ``public_base_url`` is required as soon as a target exists, because a receiver cannot
  open a relative evidence path.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import string
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from core.config.base import SLUG, Strict

WHSEC_PREFIX = "whsec_"
"""Standard Webhooks secret form: ``whsec_`` + base64 of the key bytes."""
CLIP_FIELDS = frozenset({"alert_id", "camera_id"})
"""Placeholders ``clip_path`` may use."""
_CAP_SENDER = re.compile(r"^[^\s,&<]+$")
Level = Annotated[int, Field(ge=1, le=4, description="1 = most urgent, 4 = least")]


def secret_key(secret: str) -> bytes:
    """The HMAC key of a configured secret.

    ``whsec_<base64>`` (what Standard Webhooks libraries generate and print) is decoded to its
    bytes; anything else is a raw shared secret used as its UTF-8 bytes, because many 110
    integrators simply agree on a passphrase. Raises ``ValueError`` for a ``whsec_`` value
    that is not valid base64, rather than silently signing with the wrong key.
    """
    if secret.startswith(WHSEC_PREFIX):
        try:
            key = base64.b64decode(secret.removeprefix(WHSEC_PREFIX), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("secret starts with whsec_ but the rest is not base64") from None
        if not key:
            raise ValueError("secret whsec_ holds no key bytes")
        return key
    if not secret:
        raise ValueError("secret is empty")
    return secret.encode("utf-8")


class DispatchTarget(Strict):
    """One receiver (a 110 接处警 gateway, a command-centre bus, a test endpoint)."""

    name: str = Field(description="slug; the outbox and the timeline name the target by it")
    url: str = Field(pattern=r"^https?://\S+$")
    secret: str = Field(repr=False, description="whsec_<base64> or a raw shared secret")
    format: Literal["json", "cap"] = "json"
    levels: list[Level] = Field(default_factory=lambda: [1, 2, 3, 4])
    categories: list[str] = Field(default_factory=list, description="empty = every category")
    include_review_only: bool = Field(
        False, description="also send alerts a person must confirm first (cloned plates)")
    updates: bool = Field(False, description="also send later state changes (CAP Update/Cancel)")
    timeout: float = Field(5.0, gt=0, le=120, description="seconds for one whole attempt")
    max_attempts: int = Field(8, ge=1, le=100, description="then the row is a dead letter")
    backoff_base: float = Field(2.0, gt=0)
    backoff_cap: float = Field(300.0, gt=0)
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("target name must be a slug (letters, digits, '_', '-', '.')")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises for a port that is not a number 0-65535
        except ValueError as exc:
            raise ValueError(f"url is not usable: {exc}") from None
        if not parts.hostname:
            raise ValueError("url has no host")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        secret_key(value)
        return value

    @model_validator(mode="after")
    def _backoff_order(self) -> DispatchTarget:
        if self.backoff_cap < self.backoff_base:
            raise ValueError(f"target {self.name}: backoff_cap ({self.backoff_cap}) is below "
                             f"backoff_base ({self.backoff_base})")
        return self


class CapOptions(Strict):
    """What a CAP 1.2 body says about its sender and audience."""

    sender: str = Field("vigil@localhost", description="CAP sender: no spaces, commas or &<")
    sender_name: str = "Vigil 视频预警"
    restriction: str = "仅限公安机关内部使用 (police use only)"
    language: str = "zh-CN"
    radius_km: float = Field(0.1, gt=0, description="radius of the area circle around the camera")

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not _CAP_SENDER.match(value):
            raise ValueError("CAP sender must not contain spaces, commas, '&' or '<'")
        return value


class EvidenceLinks(Strict):
    """How evidence references become URLs a receiver can open."""

    public_base_url: str = Field("", description="e.g. https://vigil.example/evidence")
    clip_path: str = Field("clips/{alert_id}.mp4", description="placeholders: alert_id, camera_id")

    @field_validator("public_base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        if value and not re.match(r"^https?://\S+$", value):
            raise ValueError("public_base_url must be an http(s):// URL")
        return value.rstrip("/")

    @field_validator("clip_path")
    @classmethod
    def _clip_fields(cls, value: str) -> str:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        unknown = sorted(names - CLIP_FIELDS)
        if unknown:
            raise ValueError(f"clip_path: unknown placeholder(s) {', '.join(unknown)}; "
                             f"use {', '.join(sorted(CLIP_FIELDS))}")
        return value


class DispatchConfig(Strict):
    """The ``dispatch:`` section of service.yaml."""

    evidence: EvidenceLinks = EvidenceLinks()
    cap: CapOptions = CapOptions()
    callback_secret: str | None = Field(
        None, repr=False, description="secret the 110 side signs status callbacks with")
    concurrency: int = Field(8, ge=1, le=256, description="attempts in flight at once")
    batch: int = Field(50, ge=1, le=1000, description="rows taken per round")
    lease: float = Field(120.0, gt=0, description="seconds a taken row stays ours")
    poll_interval: float = Field(1.0, gt=0)
    targets: list[DispatchTarget] = Field(default_factory=list)

    @field_validator("callback_secret")
    @classmethod
    def _callback_secret(cls, value: str | None) -> str | None:
        if value is not None:
            secret_key(value)
        return value

    @model_validator(mode="after")
    def _checks(self) -> DispatchConfig:
        names = [t.name for t in self.targets]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate target name(s): {', '.join(dup)}")
        if self.targets and not self.evidence.public_base_url:
            raise ValueError("evidence.public_base_url is required when targets are configured:"
                             " receivers need absolute evidence URLs")
        needed = self.batch_seconds()
        if self.lease <= needed:
            raise ValueError(
                f"lease ({self.lease:g} s) must exceed the longest batch ({needed:g} s = "
                f"slowest timeout x ceil(batch / concurrency)); raise lease or concurrency, or "
                f"lower batch, or rows still in flight will be sent twice")
        return self

    def batch_seconds(self) -> float:
        """Worst-case time to work through one batch (every attempt timing out)."""
        slowest = max((t.timeout for t in self.targets), default=0.0)
        return slowest * math.ceil(self.batch / self.concurrency)
