"""The console page's dictionaries, read as text (no browser): both languages have the same
keys, and every key the page's scripts name literally exists. ``t()`` shows an unknown key
as itself, so a missing one would reach the screen as ``tok.revoke`` — this fails first,
without a browser; tests/browser/test_console_zh.py catches what is built at run time."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "console" / "static"
ENTRY = re.compile(r'^\s*"([\w.]+)":', re.MULTILINE)
LITERAL = re.compile(r'"([a-z]+\.[a-z_][\w.]*)"')
NOT_KEYS = (".js", ".png", ".css", ".svg")


def keys(*names: str) -> set[str]:
    found: set[str] = set()
    for name in names:
        found |= set(ENTRY.findall((STATIC / name).read_text(encoding="utf-8")))
    return found


ZH = keys("i18n_zh.js", "i18n_zh_more.js")
EN = keys("i18n_en.js", "i18n_en_more.js")


def test_both_languages_have_the_same_keys() -> None:
    assert len(ZH) > 500
    assert sorted(ZH - EN) == [] and sorted(EN - ZH) == []


def test_every_key_the_scripts_name_exists() -> None:
    """Keys written out in the scripts (``t("tok.revoke")``, lists of column keys); keys
    built at run time (``t(`tok.st.${state}`)``) are the browser test's business."""
    namespaces = {k.split(".")[0] for k in ZH}
    named: dict[str, str] = {}
    for script in sorted(STATIC.glob("*.js")):
        if script.name.startswith("i18n"):
            continue
        for literal in LITERAL.findall(script.read_text(encoding="utf-8")):
            if literal.split(".")[0] in namespaces and not literal.endswith(NOT_KEYS):
                named.setdefault(literal, script.name)
    missing = {key: where for key, where in named.items() if key not in ZH}
    assert not missing, missing
    assert "tok.revoke" in named and "search.why" in named  # the scan sees the scripts
