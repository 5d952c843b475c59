"""Full page or fragment: an htmx request gets only the partial the page includes."""

from flask import make_response, render_template, request


def wants_fragment() -> bool:
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"  # a history miss needs the whole page
    )


def page_or_fragment(page_template: str, fragment_template: str, /, **context):
    """Render the page, or its fragment for htmx; caches keep the two apart by HX-Request."""
    response = make_response(render_template(fragment_template if wants_fragment() else page_template, **context))
    response.vary.add("HX-Request")
    return response
