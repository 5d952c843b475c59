"""The admin dashboard is for admins only, never shows secrets, and answers bad parameters with a clear 400."""

import base64
import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from support.admin import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin, run_cli
from support.database import query_db
from tracker import cohorts

MODULE = "how-memory-works"
ADMIN_PAGES = [
    "/admin/",
    "/admin/insights",
    f"/admin/modules/{MODULE}",
    f"/admin/modules/{MODULE}/lenses.csv",
    "/admin/learners",
    "/admin/content",
    "/admin/lrs",
    "/admin/learners/{user_id}",
    "/admin/learners/{user_id}/delete",  # the confirmation; its form is in tests/test_admin_account_deletion.py
    "/admin/learners/anonymous/{row_id}",
    "/admin/exports/modules.csv",
    "/admin/exports/learners.csv",
    "/admin/exports/xapi.jsonl",
    "/admin/cohorts",
    "/admin/cohorts/{cohort_id}",
]
# The cohort pages' forms: who may send them is in tests/test_authorization.py, what they do in tests/test_cohort_admin.py.
ADMIN_FORMS = [
    "/admin/cohorts/{cohort_id}/groups",
    "/admin/cohorts/{cohort_id}/members",
    "/admin/cohorts/{cohort_id}/import",
    "/admin/cohorts/{cohort_id}/facilitators",
    "/admin/cohorts/{cohort_id}/invites",
    "/admin/cohorts/{cohort_id}/invites/{invite_id}/revoke",
]


@pytest.fixture
def someone(app, new_api, make_learner):
    """An anonymous learner with some progress, and the ids the learner pages of the admin use; and a cohort."""
    cohorts.create_cohort(app.extensions["tracker.db"], app.extensions["tracker.content"].index, course="study-skills",
                          name="Spring", starts_on="2027-01-04", time_zone="UTC", weekday="1", local_time="18:00")
    learner = make_learner()
    api = new_api()
    assert api.heartbeat(learner, MODULE, "memory-in-three-stages", 30).status_code == 204
    assert api.complete(learner, "memory-in-three-stages", MODULE).status_code == 200
    row_id = query_db(app, "SELECT MIN(id) FROM user_content_progress")[0][0]
    return learner, row_id


def fill(path: str, app, row_id: int, user_id: int | None = None) -> str:
    user_id = user_id or query_db(app, "SELECT MIN(id) FROM users")[0][0] or 1
    return path.format(user_id=user_id, row_id=row_id, cohort_id=query_db(app, "SELECT MIN(id) FROM cohorts")[0][0])


def test_every_admin_route_is_in_the_access_checks(app):
    routes = {
        re.sub(r"<[^>]+>", "*", rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")
    }
    checked = {re.sub(r"\{\w+\}", "*", page.replace(MODULE, "*")) for page in ADMIN_PAGES + ADMIN_FORMS}
    assert routes == checked


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_log_in_and_back(client, app, someone, path):
    path = fill(path, app, someone[1])
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [path]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_learners_who_are_not_admins_get_403(browser_like, app, someone, path):
    browser_like.signup("learner@example.org")
    response = browser_like.client.get(fill(path, app, someone[1]))
    assert response.status_code == 403
    assert "admins only" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admins_get_every_page(admin, app, someone, path):
    response = admin.get(fill(path, app, someone[1]))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_login_goes_back_to_the_admin_page_asked_for(app, browser_like):
    create_admin(app)
    response = browser_like.post_form(
        "/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/admin/learners?sort=time"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/learners?sort=time"


def test_admin_nav_link_shows_for_admins_only(admin, browser_like):
    assert 'href="/admin/"' in admin.get("/").get_data(as_text=True)
    browser_like.logout()
    browser_like.signup("learner@example.org")
    assert 'href="/admin/"' not in browser_like.client.get("/").get_data(as_text=True)


def test_admin_pages_only_read_and_their_one_form_needs_the_csrf_token(admin):
    """The dashboard changes nothing, so it has no POST routes; the log-out form it shows is CSRF-protected."""
    assert admin.post("/admin/learners", data={"q": "x"}).status_code == 405
    refused = admin.post("/logout")
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    assert admin.get("/admin/").status_code == 200, "still logged in"


@pytest.mark.parametrize("path", ["/admin/", f"/admin/modules/{MODULE}", "/admin/learners", "/admin/insights"])
def test_every_post_form_on_admin_pages_carries_a_csrf_token(admin, path):
    html = admin.get(path).get_data(as_text=True)
    for form in re.findall(r"<form[^>]*>.*?</form>", html, re.S):
        if 'method="post"' in form.lower():
            assert 'name="csrf_token"' in form
    assert 'hx-headers=\'{"X-CSRFToken"' in html


def test_anonymous_learners_appear_with_the_first_8_characters_of_their_token_only(admin, app, someone):
    learner, row_id = someone
    pages = [
        admin.get(path).get_data(as_text=True)
        for path in [
            "/admin/learners",
            f"/admin/learners/anonymous/{row_id}",
            "/admin/exports/learners.csv",
            "/admin/exports/xapi.jsonl",
        ]
    ]
    assert f"Anonymous · {learner.token[:8]}" in pages[0]
    assert f"Anonymous · {learner.token[:8]}" in pages[1]
    for body in pages:
        assert learner.token not in body
        assert learner.token.replace("-", "") not in body
        assert learner.token[:9] not in body.replace(f"Anonymous · {learner.token[:8]}", "")


def test_admin_pages_never_show_password_hashes_or_tokens(admin, app, browser_like, someone, new_api, make_learner):
    learner, row_id = someone
    hashes = [row[0] for row in query_db(app, "SELECT password_hash FROM users")]
    admin_id = query_db(app, "SELECT id FROM users")[0][0]
    paths = [fill(page, app, row_id, admin_id) for page in ADMIN_PAGES]
    for path in paths:
        body = admin.get(path).get_data(as_text=True)
        for secret in hashes:
            assert secret not in body and secret.split("$")[-1] not in body, path
        assert not re.search(r"(pbkdf2|scrypt):", body), path
        assert learner.token not in body, path
        session_cookie = admin.get_cookie("session")
        assert session_cookie is None or session_cookie.value not in body


BAD_LEARNER_QUERIES = [
    ("sort=password_hash", "Unknown sort"),
    ("dir=sideways", "direction"),
    ("after=not-a-cursor!", "cursor"),
    ("after=W10", "cursor"),
    ("after=" + "A" * 400, "cursor"),
    ("q=" + "x" * 101, "at most 100"),
    ("q=a%00b", "printable"),
]


@pytest.mark.parametrize("query, message", BAD_LEARNER_QUERIES)
def test_bad_learner_list_parameters_get_a_400_that_says_why(admin, query, message):
    for path in ("/admin/learners", "/admin/exports/learners.csv"):
        response = admin.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert message in response.get_data(as_text=True)


def cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "sort, values",
    [
        ("last_active", ["last_active", "desc", "2026-11-01T00:00:00", 0, 1]),  # no time zone
        ("last_active", ["last_active", "desc", "yesterday", 0, 1]),
        ("last_active", ["last_active", "desc", "2026-11-01T00:00:00+00:00", 0]),  # too short
        ("time", ["time", "desc", 2**70, "2026-11-01T00:00:00+00:00", 0, 1]),  # beyond 64 bits
        ("time", ["time", "desc", 1.5, "2026-11-01T00:00:00+00:00", 0, 1]),
        ("modules", ["modules", "desc", True, "2026-11-01T00:00:00+00:00", 0, 1]),
        ("modules", {"sort": "modules"}),
    ],
)
def test_tampered_page_cursors_get_a_400(admin, sort, values):
    response = admin.get(
        f"/admin/learners?sort={sort}&after={cursor(*values) if isinstance(values, list) else cursor(values)}"
    )
    assert response.status_code == 400
    assert "cursor is not valid" in response.get_data(as_text=True)


def test_a_cursor_from_another_sort_order_is_refused(admin, app):
    run_cli(app, "seed-demo-load", "--learners", "60")
    first = admin.get("/admin/learners?sort=time").get_data(as_text=True)
    cursor = re.search(r'rel="next" href="[^"]*after=([^&"]+)', first).group(1)
    response = admin.get(f"/admin/learners?sort=modules&after={cursor}")
    assert response.status_code == 400
    assert "another sort order" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/modules/no-such-module",
        "/admin/modules/no-such-module/lenses.csv",
        "/admin/learners/999999",
        "/admin/learners/99999999999999999999",
        "/admin/learners/anonymous/999999",
        "/admin/learners/anonymous/99999999999999999999999",
    ],
)
def test_unknown_modules_and_learners_are_404(admin, path):
    assert admin.get(path).status_code == 404


def test_an_account_row_id_does_not_open_as_an_anonymous_learner(admin, app, browser_like, new_api):
    assert admin.get("/admin/learners/anonymous/1").status_code == 404  # no rows at all yet


def test_live_search_gets_the_table_fragment_and_pages_vary_on_hx_request(admin):
    fragment = admin.get("/admin/learners?q=staff", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'data-learner="account:' in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    boosted = admin.get("/admin/learners?q=staff", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)
    full = admin.get("/admin/learners")
    assert "HX-Request" in full.headers["Vary"]
    html = full.get_data(as_text=True)
    assert 'hx-trigger="keyup changed delay:300ms, search"' in html
    assert 'hx-target="#learner-table"' in html


def test_overview_numbers_refresh_through_a_polled_partial(admin):
    html = admin.get("/admin/").get_data(as_text=True)
    container = re.search(r'<div id="overview-live"[^>]*>', html).group(0)
    assert 'hx-trigger="every 30s"' in container and 'hx-get="/admin/"' in container
    partial = admin.get("/admin/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and 'id="overview-live"' not in partial
    assert 'id="active-today"' in partial and "<svg" in partial


def test_charts_are_server_rendered_svg_with_labelled_axes(admin, someone):
    overview = admin.get("/admin/", headers={"HX-Request": "true"}).get_data(as_text=True)
    module = admin.get(f"/admin/modules/{MODULE}").get_data(as_text=True)
    assert overview.count("<svg") == 3
    assert "Day (UTC)" in overview and "Completions" in overview
    assert module.count("<svg") == 3
    assert "Time to complete (minutes, bin start)" in module and "Learners" in module
    assert "estimated time (log scale)" in module
    assert "<script" not in overview
    assert uuid.UUID(someone[0].token)  # the learner exists, so the charts have data


def test_learner_page_shows_their_tutor_chats_read_only(admin, app, new_api, make_learner):
    learner, api, chat_lens = make_learner(), new_api(), "talk-through-how-memory-works"
    assert api.heartbeat(learner, MODULE, chat_lens, 30).status_code == 204
    assert api.chat(learner, MODULE, chat_lens, "Why do we forget <things>?").status_code == 200
    row_id = query_db(app, "SELECT MIN(id) FROM user_content_progress")[0][0]
    html = admin.get(f"/admin/learners/anonymous/{row_id}").get_data(as_text=True)
    assert "Tutor chats" in html and "Explain Memory in Your Own Words" in html
    assert "Why do we forget &lt;things&gt;?" in html
    assert html.count('class="message message-tutor"') == 1
    assert "<textarea" not in html and "/chat" not in html
