"""The API's documentation pages on the local gateway: Swagger UI and the OpenAPI document (local only).

    GET /docs               Swagger UI (from the npm package swagger-ui-dist, nothing from a CDN)
    GET /docs/<asset>       its scripts, stylesheet and icons
    GET /docs/openapi.json  docs/openapi.json, with ``servers`` set to the gateway that serves it

"Try it out" sends requests to the URL in ``servers``: the document served here names the very
origin the page was loaded from, so the requests go to the local API, same origin, without CORS.
"Authorize" takes an access token (``make token``) for the document's bearer scheme, and
``persistAuthorization`` keeps it across reloads. The pages need no token; the API's routes still do.

These routes exist on the local gateway only, as development tooling: ``template.yaml`` does not
declare them and API Gateway does not serve them.
"""

from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from devtools import REPO_ROOT

OPENAPI_PATH = REPO_ROOT / "docs" / "openapi.json"
SWAGGER_UI_DIR = REPO_ROOT / "node_modules" / "swagger-ui-dist"
PREFIX = "/docs"
DOCUMENT_PATH = f"{PREFIX}/openapi.json"

# What the page loads from swagger-ui-dist (the base layout: no standalone preset, no URL bar).
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"})
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} - local API docs</title>
  <link rel="stylesheet" href="{prefix}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{prefix}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="{prefix}/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{prefix}/swagger-ui-bundle.js" charset="utf-8"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{document}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      displayRequestDuration: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
    }});
  </script>
</body>
</html>
"""


class DocsUnavailable(RuntimeError):
    """What the docs need is missing or broken; the message says what and how to mend it."""


@dataclass(frozen=True)
class Document:
    content_type: str
    body: bytes


def is_docs_path(path: str) -> bool:
    return path == PREFIX or path.startswith(f"{PREFIX}/")


def page(path: str, host: str | None, fallback_origin: str) -> Document | None:
    """What ``GET path`` answers under ``/docs``; ``None`` if nothing is there (the gateway's 404).

    ``host`` is the request's ``Host`` header: the document's server is that origin, so that the
    requests "Try it out" sends go where the page came from (``fallback_origin`` without one).
    """
    if path in (PREFIX, f"{PREFIX}/"):
        title = _load_document().get("info", {}).get("title") or "API"
        _asset_file("swagger-ui-bundle.js")  # a page without its script is blank: say why instead
        html = PAGE.format(title=_html_text(str(title)), prefix=PREFIX, document=DOCUMENT_PATH)
        return Document("text/html; charset=utf-8", html.encode("utf-8"))
    if path == DOCUMENT_PATH:
        document = _load_document()
        origin = f"http://{host}" if host and _HOST.fullmatch(host) else fallback_origin
        document["servers"] = [{"url": origin, "description": "the local gateway (routes without the stage prefix)"}]
        return Document("application/json", json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"))
    name = path.removeprefix(f"{PREFIX}/")
    if name in ASSETS:
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if content_type.startswith(("text/", "application/javascript")):
            content_type += "; charset=utf-8"
        return Document(content_type, _asset_file(name).read_bytes())
    return None


def _load_document() -> dict:
    try:
        document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DocsUnavailable(f"no OpenAPI document: {_shown(OPENAPI_PATH)} does not exist") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DocsUnavailable(f"{_shown(OPENAPI_PATH)} cannot be read as JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise DocsUnavailable(f"{_shown(OPENAPI_PATH)} is not an OpenAPI document (no paths object)")
    return document


def _asset_file(name: str) -> Path:
    path = SWAGGER_UI_DIR / name
    if not path.is_file():
        raise DocsUnavailable(f"{_shown(path)} is missing: install the npm packages (make setup)")
    return path


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
