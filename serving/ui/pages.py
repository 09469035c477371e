"""The console's pages that only render (the data comes with their own routers) and its static files."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from serving.errors import ApiError
from serving.ui.templating import HERE, STATIC, render

router = APIRouter(tags=["console"], include_in_schema=False)


@router.get("/ui")
async def home() -> Response:
    return RedirectResponse("/ui/review", status_code=307)


@router.get("/ui/review")
async def review(request: Request) -> Response:
    """Paste or upload a contract, see its provisions classified, confirm or correct each."""
    return render(request, "review.html.j2", page="review", accept=_accepted())


@router.get("/ui/queue")
async def queue(request: Request) -> Response:
    return render(request, "queue.html.j2", page="queue")


@router.get("/ui/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise ApiError(404, f"no static file '{name}'")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name], headers={"Cache-Control": "no-cache"})


def _accepted() -> str:
    from serving.ui.intake import supported_extensions

    return ",".join(supported_extensions())
