"""The console's pages that only render (the data comes with their own routers) and its static files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from serving.errors import ApiError
from serving.ui.templating import HERE, STATIC, render

router = APIRouter(tags=["console"])


@router.get("/ui", response_class=RedirectResponse, status_code=307)
async def home() -> Response:
    """The console's first page."""
    return RedirectResponse("/ui/review", status_code=307)


@router.get("/ui/review", response_class=HTMLResponse)
async def review(request: Request) -> Response:
    """Paste or upload a contract, see its provisions classified, confirm or correct each."""
    return render(request, "review.html.j2", page="review", accept=_accepted())


@router.get("/ui/queue", response_class=HTMLResponse)
async def queue(request: Request) -> Response:
    """The review queue's page (its script claims records with the API key)."""
    return render(request, "queue.html.j2", page="queue")


@router.get("/ui/static/{name}", response_class=FileResponse)
async def static(name: Annotated[str, Path(max_length=64)]) -> Response:
    """The console's script and style sheet."""
    if name not in STATIC:
        raise ApiError(404, f"no static file '{name}'")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name], headers={"Cache-Control": "no-cache"})


def _accepted() -> str:
    from serving.ui.intake import supported_extensions

    return ",".join(supported_extensions())
