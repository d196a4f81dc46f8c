"""The API's own documentation: /docs (Swagger UI), /redoc (ReDoc) and /openapi.json.

The pages load only the hub's own copies of Swagger UI and ReDoc (static/docs/, licences and
versions beside them), never a CDN: they work offline and from mainland China. A
Content-Security-Policy limited to the hub itself makes that hold for whatever the bundles
would fetch on their own (ReDoc's logo, web fonts).

Who may read them: any signed-in caller (an API token of any role, or a console session). The
schema names every route, parameter and role scope, which an integrator needs and a stranger
does not; a browser that is not signed in is sent to the console's sign-in page and back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from orderpilot.entrypoints.api.deps import principal_now

ASSETS_DIR = Path(__file__).resolve().parent / "static" / "docs"
ASSETS_URL = "/docs-assets"
OPENAPI_URL = "/openapi.json"
PAGES = ("/docs", "/redoc")
# Inline scripts: the few lines that start Swagger UI; blob: workers: ReDoc's search.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
                           "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "font-src 'self' data:; worker-src 'self' blob:; "
                           "connect-src 'self'; frame-ancestors 'none'")
TOKEN_PATHS = ("/api/", "/metrics")  # /metrics: unless ORDERPILOT_METRICS_PUBLIC
BEARER = {"bearer": {"type": "http", "scheme": "bearer",
                     "description": "An API token: `orderpilot token create`"}}


def install(app: FastAPI) -> None:
    """Serves the pages, the schema and the assets; build the app with docs_url, redoc_url
    and openapi_url set to None."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    setattr(app, "openapi", lambda: schema(app))  # noqa: B010 - what app.openapi() returns too

    @app.get(OPENAPI_URL, include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        principal_now(request, request.app.state.hub)
        return JSONResponse(schema(app))

    @app.get("/docs", include_in_schema=False)
    def swagger(request: Request) -> Response:
        return _page(request, get_swagger_ui_html(
            openapi_url=OPENAPI_URL, title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css", swagger_favicon_url="data:,",
            oauth2_redirect_url=None,
            swagger_ui_parameters={"persistAuthorization": False, "tryItOutEnabled": False}))

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> Response:
        return _page(request, get_redoc_html(
            openapi_url=OPENAPI_URL, title=f"{app.title} API",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js", redoc_favicon_url="data:,",
            with_google_fonts=False))


def schema(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, built once, saying that /api routes take a bearer token (so
    Swagger UI offers "Authorize") and the signed webhooks and /healthz do not."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version,
                               description=app.description, routes=app.routes)
        document.setdefault("components", {})["securitySchemes"] = BEARER
        for path, operations in document.get("paths", {}).items():
            for operation in operations.values():
                operation["security"] = [{"bearer": []}] if path.startswith(TOKEN_PATHS) \
                    else []
        app.openapi_schema = document
    return app.openapi_schema


def _page(request: Request, page: Response) -> Response:
    try:
        principal_now(request, request.app.state.hub)
    except HTTPException:
        if "authorization" in request.headers or not hasattr(request.app.state, "console"):
            raise
        # A browser: sign in to the console, then come back here.
        return RedirectResponse(f"/console/login?next={quote(request.url.path, safe='/')}",
                                status_code=303)
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    page.headers["Cache-Control"] = "no-store"
    return page
