"""What the console's routers share: the templates, the static files, and the reviewer's identity."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Optional

from fastapi import Header, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from serving.errors import ApiError

HERE = Path(__file__).parent
# The console's one Jinja environment. Starlette's own would escape only .html/.htm/.xml names:
# every template here ends in .html.j2, and anything else is escaped too (default=True), so no
# stored text (a provision, a document's name, a label) reaches a page as markup.
environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default=True, default_for_string=True),
)
templates = Jinja2Templates(env=environment)
STATIC = {"console.js": "text/javascript", "console.css": "text/css"}
# A page may load only what this gateway serves (nothing from another origin, no inline script),
# may send forms only here, and may not re-base its relative links: markup that slipped into a
# page could neither load, run, post nor redirect anything.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_REVIEWER = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    context.setdefault("model_name", settings.model_name)
    context.setdefault("key_required", settings.api_key is not None)
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def reviewer(x_reviewer: Annotated[Optional[str], Header()] = None) -> str:
    """The reviewer (one browser tab) that claims queue records: a random id the page's script sends."""
    if x_reviewer is None or not _REVIEWER.match(x_reviewer):
        raise ApiError(400, "X-Reviewer header missing or invalid (8-64 letters, digits, _ or -); reload the page")
    return x_reviewer
