"""Pages and static files: the demo page, the widget's script and style, and offline API docs.

/docs is Swagger UI served from the `swagger-ui-bundle-v2` package (no CDN), started by a small
script of our own so the page works under the strict `script-src 'self'` policy.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import jinja2
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from faqbot.security import error_response

log = logging.getLogger("faqbot.api")
JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
# URL -> (file under web/, media type); files may appear later, so each request looks again
STATIC_FILES = {
    "/widget.js": ("widget/widget.js", JS),
    "/widget.css": ("widget/widget.css", CSS),
    "/demo.css": ("templates/demo.css", CSS),
}
DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>faqbot API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
DOCS_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


def pages_router(web_dir: Path) -> APIRouter:
    """Routes for /, /widget.js, /widget.css and /demo.css, reading `web_dir` on each request."""
    router = APIRouter(include_in_schema=False)
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(web_dir / "templates")),
        autoescape=True,
        auto_reload=True,
    )

    @router.get("/", response_class=HTMLResponse)
    async def demo_page() -> HTMLResponse:
        """The demo page with the widget (a placeholder until the widget's page exists)."""
        name = (
            "demo.html" if (web_dir / "templates" / "demo.html").is_file() else "placeholder.html"
        )
        html = templates.get_template(name).render(
            widget_js="/widget.js", widget_css="/widget.css", api_base=""
        )
        return HTMLResponse(html)

    for url, (relative, media_type) in STATIC_FILES.items():
        router.add_api_route(url, static_file(web_dir / relative, media_type))
    return router


def static_file(path: Path, media_type: str) -> Callable[[], Awaitable[Response]]:
    """An endpoint serving one file, or a JSON 404 while it does not exist."""

    async def serve() -> Response:
        if not path.is_file():
            return error_response(404, "not_found", f"{path.name} is not available.")
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})

    serve.__doc__ = f"The file {path.name}."
    return serve


def mount_docs(app: FastAPI) -> bool:
    """Serve Swagger UI at /docs from the bundled package; False (docs off) if it is missing."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        log.warning("swagger-ui-bundle-v2 is not installed: /docs is off")
        return False
    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    async def docs() -> HTMLResponse:
        """Interactive API docs, fully offline."""
        return HTMLResponse(DOCS_HTML)

    @app.get("/docs/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        """Starts Swagger UI on /openapi.json."""
        return Response(DOCS_INIT, media_type="text/javascript; charset=utf-8")

    return True
