"""Synthetic scenes drawn by our own code: plates, a walking person, traffic clips.

They live here, beside the demo that is their main user, and not in ``analytics/``: the
analytics stage reads real frames and never draws its own, so ``analytics/plates*.py`` is
plate reading only. Tests, benches and ``vigil/demo.py`` import these modules; no stage does
(docs/architecture.md, section 2: imports point down only).
"""
