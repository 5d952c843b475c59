"""Security headers and cookies: every response carries the policy, and no page needs an exception to it.

The Content Security Policy allows only the app's own script and style files. Pages must
therefore hold no inline script, event-handler attribute, style attribute or htmx filter
expression (htmx would eval it); the template scan and the rendered-page scan check both.
"""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from support.csrf import csrf_token
from tracker.config import ConfigError, load_settings

MODULE, LENS = "how-memory-works", "memory-in-three-stages"
TEMPLATES = Path(__file__).resolve().parent.parent / "tracker" / "templates"
EXPECTED_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "media-src": "'self'",  # plus the sites the content plays media files from; the demo course has none
    "frame-src": "https://www.youtube-nocookie.com",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}
ONE_YEAR_S = 365 * 24 * 3600
HTTPS, HTTP = "https://localhost", "http://localhost"


def policy(response) -> dict:
    directives = (part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return {name: value for name, value in directives}


def assert_security_headers(response):
    assert policy(response) == EXPECTED_POLICY
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def send(client, method: str, path: str, base_url: str, headers=None, **kwargs):
    """A request as a browser on `base_url` makes it: same-origin, with its Referer."""
    headers = {"Referer": f"{base_url}/", **(headers or {})}
    return client.open(path, method=method, base_url=base_url, headers=headers, **kwargs)


def form_post(client, path: str, base_url: str, data=None, headers=None):
    data = {"csrf_token": csrf_token(client), **(data or {})}
    return send(client, "POST", path, base_url, headers=headers, data=data)


def learner_token(client, base_url: str) -> str:
    send(client, "GET", "/", base_url)
    return client.get_cookie("tracker_anon").value


# Each kind of response the app gives: (what is requested, expected status, its Content-Type).
RESPONSES = {
    "page": (lambda c, b: send(c, "GET", f"/modules/{MODULE}/{LENS}", b), 200, "text/html"),
    "htmx fragment": (
        lambda c, b: form_post(c, f"/modules/{MODULE}/{LENS}/complete", b, headers={"HX-Request": "true"}),
        200, "text/html",
    ),
    "JSON": (
        lambda c, b: send(c, "GET", f"/api/modules/{MODULE}/progress", b,
                          headers={"X-Anonymous-Token": learner_token(c, b)}),
        200, "application/json",
    ),
    "JSON error": (
        lambda c, b: send(c, "POST", "/api/progress/time", b, json={"time_delta_s": 30},
                          headers={"X-Anonymous-Token": learner_token(c, b)}),
        422, "application/json",
    ),
    "event stream": (
        lambda c, b: send(c, "POST", f"/api/modules/{MODULE}/{LENS}/chat", b, json={"message": "Why?"},
                          headers={"X-Anonymous-Token": learner_token(c, b)}),
        200, "text/event-stream",
    ),
    "404 page": (lambda c, b: send(c, "GET", "/no/such/page", b), 404, "text/html"),
    "404 JSON": (lambda c, b: send(c, "GET", "/api/no/such/route", b), 404, "application/json"),
    "405 JSON": (lambda c, b: send(c, "GET", "/api/progress/time", b), 405, "application/json"),
    "413 JSON": (
        lambda c, b: send(c, "POST", "/api/progress/time", b, data=b"x" * (65 * 1024),
                          headers={"X-Anonymous-Token": learner_token(c, b)}),
        413, "application/json",
    ),
    "CSRF refusal": (lambda c, b: send(c, "POST", "/signup", b, data={"email": "a@example.org"}), 400, "text/html"),
    "static script": (lambda c, b: send(c, "GET", "/static/js/tracker.js", b), 200, "text/javascript"),
    "static stylesheet": (lambda c, b: send(c, "GET", "/static/css/site.css", b), 200, "text/css"),
    "redirect": (lambda c, b: send(c, "GET", "/admin/", b), 302, "text/html"),
    "303 after a form": (lambda c, b: form_post(c, f"/modules/{MODULE}/{LENS}/complete", b), 303, "text/html"),
}


def complete(response):
    """Read the whole body (a stream runs to its end) and close it (a static file)."""
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize("kind", RESPONSES)
def test_every_kind_of_response_carries_the_security_headers_and_no_hsts_over_http(client, kind):
    request, status, content_type = RESPONSES[kind]
    response = complete(request(client, HTTP))
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == content_type
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("kind", RESPONSES)
def test_over_https_every_response_also_carries_hsts(client, kind):
    request, status, _ = RESPONSES[kind]
    response = complete(request(client, HTTPS))
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert_security_headers(response)
    hsts = response.headers["Strict-Transport-Security"]
    assert int(re.match(r"max-age=(\d+)", hsts).group(1)) >= ONE_YEAR_S
    assert "includeSubDomains" in hsts


# --- no page needs an exception to the policy -----------------------------------------------

FORBIDDEN_IN_TEMPLATES = {
    "an inline <script> body": re.compile(r"<script\b[^>]*>(?!</script>)", re.I),
    "a <script> without src": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "a <style> element": re.compile(r"<style\b", re.I),
    "a style= attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I | re.S),
    "an on* event-handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S),
    "an hx-on attribute": re.compile(r"\bhx-on", re.I),
    "an hx-trigger filter [...]": re.compile(r"hx-trigger\s*=\s*(\"[^\"]*\[|'[^']*\[)", re.I),
    "a js: or javascript: value": re.compile(r"=\s*[\"']\s*(js|javascript):", re.I),
}


def test_templates_need_neither_inline_script_nor_inline_style_nor_eval():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    found = [
        f"{path.relative_to(TEMPLATES)}: {problem}: {match.group(0)[:80]!r}"
        for path in templates
        for problem, pattern in FORBIDDEN_IN_TEMPLATES.items()
        for match in pattern.finditer(path.read_text())
    ]
    assert found == []


class PolicyChecker(HTMLParser):
    """Everything in a rendered page that the Content Security Policy would block or that needs eval."""

    def __init__(self):
        super().__init__()
        self.problems, self.in_script = [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.in_script = True
            if not attrs.get("src", "").startswith("/static/"):
                self.problems.append(f"a script not from /static/: {attrs}")
        if tag == "style":
            self.problems.append("a <style> element")
        for name, value in attrs.items():
            if name.startswith("on") or name == "style" or name.startswith("hx-on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "hx-trigger" and "[" in (value or ""):
                self.problems.append(f"an hx-trigger filter: {value}")
            if re.match(r"\s*(js|javascript):", value or "", re.I):
                self.problems.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.problems.append(f"an inline script: {data[:60]!r}")


def policy_problems(html: str) -> list:
    checker = PolicyChecker()
    checker.feed(html)
    return checker.problems


def test_rendered_learner_and_account_pages_need_no_exception_to_the_policy(client, demo):
    module = demo.modules_by_slug[MODULE]
    paths = ["/", "/courses/study-skills", f"/modules/{MODULE}", "/me", "/me/delete", "/login", "/signup", "/nothing"]
    paths += [f"/modules/{MODULE}/{section.lens.name}" for section in module.sections]  # every lens type
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert policy_problems(response.get_data(as_text=True)) == [], path


def test_rendered_admin_pages_need_no_exception_to_the_policy(admin):
    for path in ["/admin/", "/admin/insights", "/admin/learners", "/admin/content", f"/admin/modules/{MODULE}"]:
        response = admin.get(path)
        assert response.status_code == 200, path
        assert policy_problems(response.get_data(as_text=True)) == [], path


def test_pages_tell_htmx_to_do_without_eval_and_inline_styles(client):
    html = client.get("/").get_data(as_text=True)
    assert ('<meta name="htmx-config" content=\'{"allowEval":false,"allowScriptTags":false,'
            '"includeIndicatorStyles":false}\'>') in html


# --- cookies ----------------------------------------------------------------------------------

def set_cookies(response) -> dict:
    """{name: lower-cased attributes} of every Set-Cookie header."""
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = header.split("=", 1)[0]
        cookies[name] = {part.strip().lower() for part in header.split(";")[1:]}
    return cookies


def assert_protected(cookie: set):
    assert {"secure", "httponly", "samesite=lax"} <= cookie


@pytest.mark.parametrize("base_url", [HTTP, HTTPS])
def test_every_cookie_is_secure_httponly_and_samesite_lax(client, base_url):
    first_visit = set_cookies(send(client, "GET", "/", base_url))
    assert_protected(first_visit["tracker_anon"])
    assert_protected(first_visit["session"])  # every page holds a CSRF token, which lives in the session

    signup = form_post(client, "/signup", base_url, {"email": "ada@example.org", "password": "correct horse battery"})
    assert signup.status_code == 303
    cookies = set_cookies(signup)
    assert_protected(cookies["session"])
    assert_protected(cookies["tracker_anon"])  # the anonymous token is cleared, with the same flags
    assert "max-age=0" in cookies["tracker_anon"]

    assert form_post(client, "/logout", base_url).status_code == 303
    login = form_post(client, "/login", base_url, {"email": "ada@example.org", "password": "correct horse battery"})
    assert login.status_code == 303
    assert_protected(set_cookies(login)["session"])
    assert "ada@example.org" in send(client, "GET", "/me", base_url).get_data(as_text=True)


@pytest.mark.app_config(TRACKER_SECURE_COOKIES=0)
def test_secure_cookies_can_be_turned_off_for_plain_http_installations(client):
    cookies = set_cookies(client.get("/"))
    for name in ("tracker_anon", "session"):
        assert "secure" not in cookies[name]
        assert {"httponly", "samesite=lax"} <= cookies[name]


def test_over_https_a_form_from_another_site_is_refused_and_writes_nothing(client, database_snapshot):
    send(client, "GET", "/", HTTPS)
    before = database_snapshot()
    response = form_post(client, f"/modules/{MODULE}/{LENS}/complete", HTTPS, headers={"Referer": "https://evil.example/"})
    assert response.status_code == 400
    assert "referrer does not match" in response.get_data(as_text=True)
    assert database_snapshot() == before


# --- behind a proxy ---------------------------------------------------------------------------

PROXIED_HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


@pytest.mark.app_config(TRACKER_PROXY_HOPS=1)
def test_behind_one_proxy_the_forwarded_scheme_counts_for_hsts_csrf_and_the_origin_check(client, demo):
    page = send(client, "GET", "/", HTTP, headers=PROXIED_HTTPS)
    assert page.status_code == 200
    assert "Strict-Transport-Security" in page.headers
    # The browser's Origin is https://localhost; the app must see the same scheme to accept it.
    body = {"content_id": str(demo.lenses_by_name[LENS].id), "time_delta_s": 30}
    response = client.post("/api/progress/time", json=body, headers={"Origin": HTTPS, **PROXIED_HTTPS})
    assert response.status_code == 204, response.get_data(as_text=True)
    # Flask-WTF checks the Referer only over https: seeing https, it refuses a foreign one.
    refused = form_post(client, "/signup", HTTP, {"email": "ada@example.org", "password": "correct horse battery"},
                        headers={"Referer": "https://evil.example/", **PROXIED_HTTPS})
    assert refused.status_code == 400
    signup = form_post(client, "/signup", HTTP, {"email": "ada@example.org", "password": "correct horse battery"},
                       headers={"Referer": f"{HTTPS}/signup", **PROXIED_HTTPS})
    assert signup.status_code == 303


@pytest.mark.app_config(TRACKER_PROXY_HOPS=1)
def test_behind_a_proxy_plain_http_gets_no_hsts(client):
    response = send(client, "GET", "/", HTTP, headers={"X-Forwarded-Proto": "http"})
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_without_a_proxy_forwarded_headers_are_not_believed(client, demo):
    client.get("/")
    body = {"content_id": str(demo.lenses_by_name[LENS].id), "time_delta_s": 30}
    response = client.post("/api/progress/time", json=body, headers={"Origin": HTTPS, **PROXIED_HTTPS})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "name, value", [("TRACKER_SECURE_COOKIES", "2"), ("TRACKER_SECURE_COOKIES", "yes"), ("TRACKER_PROXY_HOPS", "-1")]
)
def test_bad_security_settings_stop_the_app_with_the_name(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings(str(tmp_path), {name: value, "SECRET_KEY": "test"})
