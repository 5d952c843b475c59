"""Full page or fragment: an htmx request gets only the partial the page includes; and downloads."""
from collections.abc import Iterable

from flask import Response, make_response, render_template, request, stream_with_context


def wants_fragment() -> bool:
    """htmx swapping a part of the page, not a boosted link or a history miss (both need the whole page)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def fragment(template: str, /, status: int = 200, **context) -> Response:
    """A partial for htmx; caches keep it apart from the page at the same address by HX-Request."""
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def page_or_fragment(page_template: str, fragment_template: str, /, **context) -> Response:
    """Render the page, or its fragment for htmx."""
    return fragment(fragment_template if wants_fragment() else page_template, **context)


def download(body: str | Iterable[str], filename: str, mimetype: str) -> Response:
    """A file to save: a string, or lines streamed as they are made."""
    if not isinstance(body, str):
        body = stream_with_context(body)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
