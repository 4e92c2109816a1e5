"""The design documents the code cites are in the repository, and the docs name real files.

The code once cited ``architecture.md`` and ``integration.md`` 51 times while both lived
outside the repository (``../shared/docs``): a clone had no way to read them. These checks
keep every ``docs/….md`` a file or page names present, every relative link between pages
resolving, every citation of a docs page spelled ``docs/<page>.md`` (so it can be found from
anywhere), no citation of the outside copy, and every repository path a page names in
backticks existing, so a moved or renamed module is caught when its page is not updated.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SKIP_DIRS = {".git", ".venv", ".venv-lock", ".venv-train", "var", "artifacts", "models",
             "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
             "screenshots"}
"""Not ours or not text: environments, caches, run-time output, model files, pictures."""
CODE = {".py", ".js", ".html", ".css", ".sh", ".toml", ".yaml", ".yml", ".in", ".txt"}
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), ROOT / "analytics/models/README.md",
         ROOT / "training/README.md"]
THIS = Path(__file__).resolve()

DOCS_PATH = re.compile(r"(?<![\w./-])docs/([\w.-]+\.md)")
PAGE_NAME = re.compile(r"(?<![\w/.'\"-])([\w-]+\.md)\b")
"""A page name not written as a path: not after ``/`` (``docs/x.md``) nor opening a string
(``Path(...) / "docs" / "x.md"`` is a path built in code, not a citation)."""
LINK = re.compile(r"\]\(([^)\s]+)\)")
BACKTICKED = re.compile(r"`([^`\s]+)`")
TOP_LEVEL = ("core/", "ingest/", "analytics/", "alerts/", "console/", "vigil/", "tests/",
             "bench/", "configs/", "docs/", "scripts/", "training/", "docker/", "requirements/")


@cache
def text_files() -> tuple[Path, ...]:
    """Every text file of the repository we wrote (code, config, docs)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            path = Path(folder) / name
            if path.suffix in CODE | {".md"} or name in ("Makefile", "run"):
                found.append(path)
    return tuple(sorted(found))


def code_files() -> Iterator[Path]:
    return (p for p in text_files() if p.suffix != ".md" and p.resolve() != THIS)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def where(path: Path, text: str, index: int) -> str:
    return f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, index) + 1}"


def test_the_design_documents_are_in_the_repository() -> None:
    for page in ("architecture.md", "integration.md", "platform-notes.md"):
        assert (DOCS / page).is_file(), page
    assert len(text_files()) > 100  # the walk found the repository, not an empty folder


def test_every_docs_page_that_is_named_exists() -> None:
    missing = [f"{where(p, t, m.start())}: docs/{m.group(1)}"
               for p in text_files() if p.resolve() != THIS
               for t in [read(p)] for m in DOCS_PATH.finditer(t)
               if not (DOCS / m.group(1)).is_file()]
    assert not missing, "named but not in docs/:\n" + "\n".join(missing)


def test_code_cites_docs_pages_by_their_path_and_never_the_outside_copy() -> None:
    pages = {p.name for p in DOCS.glob("*.md")}
    bad: list[str] = []
    for path in code_files():
        text = read(path)
        bad += [f"{where(path, text, m.start())}: {m.group(1)} (write docs/{m.group(1)})"
                for m in PAGE_NAME.finditer(text) if m.group(1) in pages]
    for path in text_files():
        if path.resolve() == THIS:
            continue
        text = read(path)
        bad += [f"{where(path, text, m.start())}: shared/docs (the copy outside the repo)"
                for m in re.finditer(r"shared/docs", text)]
    assert not bad, "\n".join(bad)


def test_links_between_pages_resolve() -> None:
    broken: list[str] = []
    for page in PAGES:
        text = read(page)
        for match in LINK.finditer(text):
            target = match.group(1).split("#", 1)[0]
            if not target or "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{where(page, text, match.start())}: {match.group(1)}")
    assert not broken, "links to nothing:\n" + "\n".join(broken)


def named_paths(page: Path) -> Iterator[tuple[str, str]]:
    """(location, path) for every backticked repository path on ``page``."""
    text = read(page)
    for match in BACKTICKED.finditer(text):
        token = match.group(1).rstrip(".,:;")
        if token.startswith(TOP_LEVEL) and "://" not in token:
            yield where(page, text, match.start()), token


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_paths_a_page_names_exist(page: Path) -> None:
    missing = [f"{at}: {path}" for at, path in named_paths(page)
               if not (any(ROOT.glob(path)) if "*" in path else (ROOT / path).exists())]
    assert not missing, "named but not in the repository:\n" + "\n".join(missing)


def test_the_path_check_sees_the_architecture_tables() -> None:
    named = {path for _, path in named_paths(DOCS / "architecture.md")}
    assert {"core/messages.py", "analytics/plates.py", "console/static/app.js",
            "core/store/migrations.py"} <= named
