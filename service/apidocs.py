"""The API documentation pages (``/docs``: Swagger UI, ``/redoc``: ReDoc) with their scripts
and styles served by this app, not a CDN.

FastAPI's default pages load Swagger UI and ReDoc from jsdelivr, a favicon from
fastapi.tiangolo.com and ReDoc's fonts from Google: on an office network without Internet
(a commune's one-stop unit) ``/docs`` was a blank page. The assets come from the
``fastapi-offline`` package (Swagger UI, ReDoc, a favicon) and are mounted at
:data:`ASSETS`; ``MOTCUA_API_DOCS=0`` (``service.exposure``) removes pages and assets alike.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from service.exposure import api_docs_enabled, docs_urls

#: Where the documentation's assets are served (mounted before ``/static``).
ASSETS = "/static/api-docs"
ASSET_DIR = Path(fastapi_offline.__file__).parent / "static"
DOCS, REDOC, OAUTH2_REDIRECT = "/docs", "/redoc", "/docs/oauth2-redirect"
#: The one address ReDoc's bundle would still fetch elsewhere: Redocly's logo in the side
#: bar. Without a source the image hides itself (its ``onError``), as it would offline.
REDOCLY_LOGO = b'"https://cdn.redoc.ly/redoc/logo-mini.svg"'


def redoc_bundle() -> bytes:
    """ReDoc's standalone script without the request for Redocly's logo."""
    return (ASSET_DIR / "redoc.standalone.js").read_bytes().replace(REDOCLY_LOGO, b'""')


def constructor_urls(env: dict[str, str] | None = None) -> dict[str, str | None]:
    """The FastAPI constructor's documentation URLs: the OpenAPI document as
    ``MOTCUA_API_DOCS`` says, and never FastAPI's own CDN pages (:func:`install` adds ours)."""
    return {**docs_urls(env), "docs_url": None, "redoc_url": None}


def install(app: FastAPI, env: dict[str, str] | None = None) -> None:
    """Add ``/docs``, ``/redoc`` and their assets, unless the documentation is switched off.
    Call it before mounting ``/static`` (the first matching mount wins)."""
    if not api_docs_enabled(env) or app.openapi_url is None:
        return
    title = f"{app.title} — tài liệu API"
    bundle = redoc_bundle()

    @app.get(f"{ASSETS}/redoc.standalone.js", include_in_schema=False)
    def redoc_script() -> Response:  # registered before the mount, so it wins
        return Response(bundle, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    app.mount(ASSETS, StaticFiles(directory=ASSET_DIR), name="api-docs")

    @app.get(DOCS, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        # validatorUrl None: Swagger UI would otherwise send the document to swagger.io.
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=title,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_ui_parameters={"validatorUrl": None})

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC, include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url, title=title,
                              redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS}/favicon.png",
                              with_google_fonts=False)
