"""Shared bases for config models (split out so sibling model files can import them)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class Strict(BaseModel):
    """Unknown keys are errors (a typo points at its line) and values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
