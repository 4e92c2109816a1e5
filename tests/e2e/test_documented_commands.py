"""Every ``vigil …`` command the README and docs name exists, with the flags they name.

The README once documented ``vigil users add`` before it existed; this reads the command
table and every backticked ``vigil`` command in README.md and docs/*.md, and runs
``vigil <sub-command> --help`` for each, checking that each ``--flag`` shown is accepted.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
        ROOT / "analytics" / "models" / "README.md"]
COMMAND = re.compile(r"`(vigil [^`]+)`")


def documented() -> dict[tuple[str, ...], set[str]]:
    """Sub-command words → the flags shown with them, over every document."""
    found: dict[tuple[str, ...], set[str]] = {}
    for doc in DOCS:
        for text in COMMAND.findall(doc.read_text(encoding="utf-8")):
            words = text.replace("\\|", "|").split()[1:]
            sub = tuple(w for w in words[:2] if re.fullmatch(r"[a-z][a-z-]*", w))
            if words[:1] != list(sub[:1]) or not sub:
                continue
            if len(sub) == 2 and sub[1] not in SUBCOMMANDS.get(sub[0], ()):
                sub = sub[:1]
            flags = {f for f in re.findall(r"--[a-z][a-z-]*", text)}
            found.setdefault(sub, set()).update(flags)
    return found


SUBCOMMANDS = {"plates": ("read", "eval"), "models": ("install",), "users": ("add", "list")}


@cache
def help_text(sub: tuple[str, ...]) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "vigil.cli", *sub, "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout + done.stderr


def test_the_readme_command_table_is_read() -> None:
    commands = documented()
    for sub in [("run",), ("validate-config",), ("replay",), ("plates", "read"),
                ("plates", "eval"), ("models", "install"), ("users", "add")]:
        assert sub in commands, sub


@pytest.mark.parametrize("sub", sorted(documented()), ids=" ".join)
def test_documented_command_exists_with_its_flags(sub: tuple[str, ...]) -> None:
    code, text = help_text(sub)
    assert code == 0, text
    for flag in sorted(documented()[sub]):
        assert flag in text, f"`vigil {' '.join(sub)}` has no {flag}:\n{text}"
