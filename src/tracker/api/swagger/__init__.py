"""The Swagger UI of the read API at `/api/v1/swagger-ui`, with nothing fetched from
the internet: swagger-ui's dist files (script, stylesheet, favicon) come from the
`fastapi-offline` package and are served with this package's start-up script under
`/api/v1/swagger-ui/assets`. The page runs no inline code, so its
Content-Security-Policy allows only the app itself ('self'), and `data:` images:
swagger-ui.css draws its icons as data: URIs, which load nothing from anywhere."""

from __future__ import annotations

from html import escape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from tracker.api import paths

# swagger-ui-bundle.js, swagger-ui.css, favicon.png from the pinned package; swagger-init.js from here
ASSET_PACKAGES: list[str | tuple[str, str]] = [("fastapi_offline", "static"), (__name__, "static")]
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – Swagger UI</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Add the Swagger UI page and its assets to `app` (created with `docs_url=None`)."""
    app.mount(paths.SWAGGER_ASSETS, StaticFiles(packages=ASSET_PACKAGES), name="swagger-ui-assets")

    @app.get(paths.SWAGGER_UI, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = PAGE.format(
            title=escape(app.title), assets=escape(root + paths.SWAGGER_ASSETS), openapi=escape(root + paths.OPENAPI)
        )
        return HTMLResponse(html, headers=SECURITY_HEADERS)
