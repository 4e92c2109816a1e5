"""GB/T 28181 20-digit device ids (docs/integration.md §3), parsed for display, never required."""

from __future__ import annotations

from dataclasses import dataclass

TYPES = {
    "111": "DVR", "118": "NVR", "121": "video checkpoint (卡口)", "131": "camera",
    "132": "IPC", "200": "platform", "215": "business group",
}
INDUSTRIES = {
    "00": "PSB road surface", "01": "community", "04": "traffic road", "05": "traffic checkpoint",
}


@dataclass(frozen=True, slots=True)
class GbId:
    """``centre`` 8 digits (GB/T 2260 admin code + unit), ``industry`` 2, ``type`` 3,
    ``network`` 1 (0/1 PSB video network, 7 internet/social), ``serial`` 6."""

    centre: str
    industry: str
    type: str
    network: str
    serial: str

    @property
    def type_name(self) -> str:
        return TYPES.get(self.type, "other")

    @property
    def industry_name(self) -> str:
        return INDUSTRIES.get(self.industry, "other")

    @property
    def network_name(self) -> str:
        if self.network in ("0", "1"):
            return "PSB video network"
        return "internet" if self.network == "7" else "other"


def parse_gb_id(value: str) -> GbId | None:
    """Return the parsed id, or ``None`` if ``value`` is not 20 digits (a plain slug is fine)."""
    if len(value) != 20 or not value.isdigit():
        return None
    return GbId(value[:8], value[8:10], value[10:13], value[13], value[14:])
