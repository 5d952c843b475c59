"""CSRF tokens, read from a page's form as a browser would."""
import re

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page gives this client's session, as a browser would read it from a form."""
    match = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF field on {path}"
    return match.group(1)
