"""``/docs``: the OpenAPI page (Swagger UI), served entirely from this process.

FastAPI's own ``/docs`` page fetches Swagger UI from a CDN, which an offline police network
cannot reach, and starts it with an inline ``<script>``, which the console's CSP forbids.
So the app turns FastAPI's page off and serves its own: Swagger UI's files come from the
``fastapi-offline`` wheel (MIT; Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI
writes), and the start-up code is a small script of ours served from ``/docs/init.js``.

The page gets the console's CSP with one exception: ``img-src`` also allows ``data:``
(Swagger UI's stylesheet draws its icons as ``data:`` SVGs). Inline scripts stay forbidden.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


def assets_dir() -> Path | None:
    """Swagger UI's files inside the installed ``fastapi-offline`` package, or None."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def _page(title: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} API</title>
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="{DOCS_URL}/init.js"></script>
</body>
</html>
"""


def _init_script(openapi_url: str) -> str:
    """Start Swagger UI on the app's spec; ``persistAuthorization`` keeps a pasted bearer
    token across reloads (a token is what every ``/api`` route wants)."""
    options = {"url": openapi_url, "dom_id": "#swagger-ui", "deepLinking": True,
               "persistAuthorization": True}
    return (f"window.ui = SwaggerUIBundle(Object.assign({json.dumps(options)}, "
            "{presets: [SwaggerUIBundle.presets.apis]}));\n")


def install(app: FastAPI) -> bool:
    """Serve ``/docs`` from local files. The app must be created with ``docs_url=None``.
    Returns False (and serves no ``/docs``) when the assets are missing, so a broken
    install shows a 404 rather than a page that silently tries the internet."""
    folder = assets_dir()
    if folder is None or app.openapi_url is None:
        return False
    page, script = _page(app.title), _init_script(app.openapi_url)

    @app.get(DOCS_URL, include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": CSP})

    @app.get(f"{DOCS_URL}/init.js", include_in_schema=False)
    def docs_script() -> Response:
        return Response(script, media_type="text/javascript")

    app.mount(ASSETS_URL, StaticFiles(directory=folder), name="docs-assets")
    return True
