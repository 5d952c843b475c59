"""Authorisation matrix: every route, tried as a visitor, learner A, learner B and an admin.

Learner B is both an account and, separately, an anonymous learner known by a token. A can never
read or write B's progress or chats, whether through the API, the pages or the exports; no
identity's request changes anyone else's rows; admin pages never show a full token or a password hash.
Rows are read through the test's own database connection, never through the app's session.
"""
import csv
import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from support.admin import ADMIN_EMAIL, ADMIN_PASSWORD, Account, OwnContextClient, create_admin
from support.csrf import csrf_token
from support.database import query_db
from tracker.db import db
from tracker.learn.render import duration
from tracker.models import ChatMessage, ChatSession, QuestionAnswer, User, UserContentProgress

MODULE, COURSE = "how-memory-works", "study-skills"
LENS = "memory-in-three-stages"  # an article every learner spends time on and completes
CHAT_LENS = "talk-through-how-memory-works"
LENS_PAGE, CHAT_PAGE = f"/modules/{MODULE}/{LENS}", f"/modules/{MODULE}/{CHAT_LENS}"
FROM_OUR_PAGES = {"Sec-Fetch-Site": "same-origin"}  # what a browser sends with the pages' own API calls

A_EMAIL, A_NAME, A_MARKER = "ann.a2d4b@example.org", "Ann Alpha-2d4b", "A-OWN-2d4b"
B_EMAIL, B_NAME, B_MARKER = "bea.b7f3a@example.org", "Bea Bravo-7f3a", "B-SECRET-7f3a"
B_ANONYMOUS_MARKER = "B-ANON-SECRET-c91e"

progress, sessions, messages, answers, users = (
    UserContentProgress.__table__, ChatSession.__table__, ChatMessage.__table__, QuestionAnswer.__table__, User.__table__
)


@dataclass(frozen=True)
class Expect:
    """The answer an identity must get: a status, and what shows it is for the reason meant."""

    status: int
    says: str = ""  # in the body: a refusal must name its reason, so that CSRF or a 404 cannot pass for it
    goes_to: str = ""  # the path a redirect leads to


OK, NO_CONTENT = Expect(200), Expect(204)
LOGIN_FIRST = Expect(302, goes_to="/login")
ADMINS_ONLY = Expect(403, "This page is for admins only.")
NO_LEARNER = Expect(401, "no learner: log in, or send an anonymous token")
NOTHING_TO_ANSWER = Expect(409, "There is no message waiting for an answer")


@dataclass(frozen=True)
class Route:
    """One endpoint and method, how a browser calls it, and the answer each kind of identity gets."""

    endpoint: str
    method: str
    path: str  # {b_user_id} and {b_anonymous_row_id} are filled in from the world
    visitor: Expect  # neither logged in nor carrying a token
    token: Expect  # an anonymous learner, known by the tracker_anon cookie
    account: Expect  # a logged-in learner
    admin: Expect
    call: str = "get"  # "get"; "api" (JSON from our pages); "form" (CSRF field); "stream" (CSRF header)
    data: dict | None = None  # "{lens_id}" and the like are filled in from the world
    form_page: str = "/login"  # where the CSRF token comes from
    shows: Callable | None = None  # asserts the answer holds the caller's own data, exactly or by its marker

    @property
    def key(self) -> str:
        return f"{self.endpoint} {self.method}"


def admin_page(endpoint: str, path: str) -> Route:
    return Route(endpoint, "GET", path, visitor=LOGIN_FIRST, token=LOGIN_FIRST, account=ADMINS_ONLY, admin=OK)


def for_everyone(endpoint: str, method: str, path: str, answer: Expect = OK, **how) -> Route:
    return Route(endpoint, method, path, answer, answer, answer, answer, **how)


def learner_api(endpoint: str, method: str, path: str, answer: Expect = OK, **how) -> Route:
    return Route(endpoint, method, path, visitor=NO_LEARNER, token=answer, account=answer, admin=answer, call="api", **how)


# What a route must show its caller of the caller's own, checked for everyone who owns rows: an
# answer about someone else, or about no one, cannot pass for the caller's.
def own_chat(world, who, body):
    assert not who.marker or who.marker in body, "the caller's own chat is missing"


def own_chat_messages(world, who, body):
    assert [(m["role"], m["text"], m["status"]) for m in json.loads(body)["messages"]] == world.chat(who)


def own_module_time(world, who, body):
    assert json.loads(body)["time_spent_s"] == world.module_time(who)


def own_report(world, who, body):
    seconds = world.module_time(who)
    assert not seconds or f"{duration(seconds)} spent" in body, "the caller's own time is missing"


def own_progress_csv(world, who, body):
    table = csv.DictReader(io.StringIO(body))
    assert sorted((row["content_id"], int(row["total_time_spent_s"])) for row in table) == world.progress_times(who)


def own_export(world, who, body):
    exported = json.loads(body)
    assert sorted((row["content_id"], row["total_time_spent_s"]) for row in exported["progress"]) == world.progress_times(who)
    assert [(m["role"], m["text"], m["status"]) for m in exported["chat_messages"]] == world.chat(who)


HEARTBEAT = {"content_id": "{lens_id}", "lo_id": "{lo_id}", "module_id": "{module_id}", "time_delta_s": 7}
ROUTES = [
    admin_page("admin.overview", "/admin/"),
    admin_page("admin.insights", "/admin/insights"),
    admin_page("admin.module", f"/admin/modules/{MODULE}"),
    admin_page("admin.export_module_lenses", f"/admin/modules/{MODULE}/lenses.csv"),
    admin_page("admin.learners", "/admin/learners"),
    admin_page("admin.content", "/admin/content"),
    admin_page("admin.account", "/admin/learners/{b_user_id}"),  # A naming B's account by its id
    admin_page("admin.anonymous", "/admin/learners/anonymous/{b_anonymous_row_id}"),
    admin_page("admin.export_modules", "/admin/exports/modules.csv"),
    admin_page("admin.export_learners", "/admin/exports/learners.csv"),
    admin_page("admin.export_xapi", "/admin/exports/xapi.jsonl"),
    for_everyone("api.openapi_document", "GET", "/api/openapi.json"),
    learner_api("api.module_progress", "GET", f"/api/modules/{MODULE}/progress", shows=own_module_time),
    learner_api(
        "api.update_module_progress", "POST", f"/api/modules/{MODULE}/progress",
        data={"contentId": "{lens_id}", "timeSpentS": 5, "completed": True}, shows=own_module_time,
    ),
    learner_api("api.record_time", "POST", "/api/progress/time", NO_CONTENT, data=HEARTBEAT),
    learner_api(
        "api.complete", "POST", "/api/progress/complete",
        data={"content_id": "{lens_id}", "content_type": "lens", "module_slug": MODULE},
    ),
    learner_api("api.chat_history", "GET", f"/api/modules/{MODULE}/{CHAT_LENS}/chat", shows=own_chat_messages),
    learner_api("api.send_chat_message", "POST", f"/api/modules/{MODULE}/{CHAT_LENS}/chat", data={"message": "Mine?"}),
    for_everyone("auth.login", "GET", "/login"),
    # B's email is typed in capitals: the form shows back what was typed, and the leak checks look
    # for the email as stored. The app reads it case-blind, so these really aim at B's account.
    for_everyone(
        "auth.login", "POST", "/login", Expect(422, "That email and password do not match an account."),
        call="form", data={"email": B_EMAIL.upper(), "password": "not bea's password"},
    ),
    for_everyone("auth.signup", "GET", "/signup"),
    for_everyone(
        "auth.signup", "POST", "/signup", Expect(422, "An account with this email already exists"),
        call="form", form_page="/signup", data={"email": B_EMAIL.upper(), "password": "taking over bea", "display_name": "x"},
    ),
    for_everyone("auth.logout", "POST", "/logout", Expect(303, goes_to="/"), call="form"),
    for_everyone("learn.index", "GET", "/"),
    for_everyone("learn.course", "GET", f"/courses/{COURSE}"),
    for_everyone("learn.module", "GET", f"/modules/{MODULE}"),
    for_everyone("learn.lens", "GET", CHAT_PAGE, shows=own_chat),
    for_everyone("learn.chat_history", "GET", f"{CHAT_PAGE}/chat", shows=own_chat),
    for_everyone(
        "learn.complete", "POST", f"{LENS_PAGE}/complete", Expect(303, goes_to=LENS_PAGE),
        call="form", form_page=LENS_PAGE,
    ),
    for_everyone(
        "learn.send_chat_message", "POST", f"{CHAT_PAGE}/chat", Expect(303, goes_to=CHAT_PAGE),
        call="form", form_page=CHAT_PAGE, data={"message": "Mine?"},
    ),
    # The demo content asks no questions; answering across learners on content that does is in
    # tests/test_question_answers.py (test_a_learner_never_reads_or_changes_another_learners_answers).
    for_everyone(
        "learn.save_answer", "POST", f"{LENS_PAGE}/questions/q1", Expect(404, "has no question “q1”"),
        call="form", form_page=LENS_PAGE, data={"answer": "Mine?"},
    ),
    # Every learner has a question of their own waiting (see `world`); the visitor and the admin
    # have none, and must not get anyone else's answered.
    Route(
        "learn.stream_chat_answer", "POST", f"{CHAT_PAGE}/chat/answer",
        visitor=NOTHING_TO_ANSWER, token=OK, account=OK, admin=NOTHING_TO_ANSWER, call="stream", form_page=CHAT_PAGE,
    ),
    for_everyone("learn.me", "GET", "/me", shows=own_report),
    for_everyone("learn.export_json", "GET", "/me/export.json", shows=own_export),
    for_everyone("learn.export_csv", "GET", "/me/export.csv", shows=own_progress_csv),
    for_everyone("learn.confirm_delete", "GET", "/me/delete"),
    for_everyone("learn.delete", "POST", "/me/delete", Expect(303, goes_to="/me"), call="form", form_page="/me/delete"),
    # The demo content plays no media file of its own, so there is none for anyone to fetch.
    for_everyone("media.file", "GET", "/media/lenses/memory-in-three-stages.md",
                 Expect(404, "No lens plays or shows a file called")),
    for_everyone("ops.healthz", "GET", "/healthz"),
    for_everyone("ops.readyz", "GET", "/readyz"),
    for_everyone("static", "GET", "/static/css/site.css"),
]


def fill(data: dict, ids: dict) -> dict:
    """A request body with the world's ids in place of its "{lens_id}"-style placeholders."""
    return {name: value.format(**ids) if isinstance(value, str) else value for name, value in data.items()}


@dataclass
class Person:
    """One identity: its own browser, the rows it owns, and what nobody else may see."""

    name: str
    kind: str  # "visitor", "token", "account" or "admin": the matrix column that applies
    client: OwnContextClient
    owner: dict | None = None  # {"user_id": ...} or {"anonymous_token": ...}; the visitor owns nothing yet
    private: tuple = ()  # only the owner, and an admin on admin pages, may see these
    credentials: tuple = ()  # only the owner may ever see these
    marker: str = ""  # text in the person's own chat messages


class World:
    """The app with every identity set up; calls routes as them and reads their rows directly."""

    def __init__(self, app, ids: dict, people: list[Person]):
        self.app, self.ids = app, ids
        self.people = {person.name: person for person in people}

    def call(self, person: Person, route: Route, headers=None, query=None, fields=None):
        """Make the route's request as a browser on our pages would, with a CSRF token where needed."""
        client, path, headers = person.client, route.path.format(**self.ids), dict(headers or {})
        data = {**fill(route.data or {}, self.ids), **(fields or {})}
        if route.call == "api":
            body = {"json": data} if route.method == "POST" else {}
            return client.open(path, method=route.method, headers={**FROM_OUR_PAGES, **headers}, query_string=query, **body)
        if route.call == "form":
            data["csrf_token"] = csrf_token(client, route.form_page)
            return client.post(path, data=data, headers=headers, query_string=query)
        if route.call == "stream":
            headers.update({"X-CSRFToken": csrf_token(client, route.form_page), "HX-Request": "true"})
            return client.post(path, headers=headers, query_string=query)
        return client.open(path, method=route.method, headers=headers, query_string=query)

    def rows(self, person: Person) -> dict:
        """Everything the person owns, straight from the database."""
        (column, value), = person.owner.items()
        with self.app.app_context(), db.engine.connect() as conn:
            owned_sessions = select(sessions.c.id).where(sessions.c[column] == value)
            found = {
                "progress": conn.execute(select(progress).where(progress.c[column] == value).order_by(progress.c.id)),
                "chat sessions": conn.execute(select(sessions).where(sessions.c[column] == value).order_by(sessions.c.id)),
                "chat messages": conn.execute(
                    select(messages).where(messages.c.session_id.in_(owned_sessions)).order_by(messages.c.id)
                ),
                "question answers": conn.execute(select(answers).where(answers.c[column] == value).order_by(answers.c.id)),
            }
            if column == "user_id":
                found["account"] = conn.execute(select(users).where(users.c.id == value))
            return {name: [dict(row) for row in result.mappings()] for name, result in found.items()}

    def chat(self, person: Person) -> list[tuple]:
        return [(m["role"], m["text"], m["status"]) for m in self.rows(person)["chat messages"]]

    def module_time(self, person: Person) -> int:
        return sum(r["total_time_spent_s"] for r in self.rows(person)["progress"] if r["content_type"] == "module")

    def progress_times(self, person: Person) -> list[tuple]:
        return sorted((str(r["content_id"]), r["total_time_spent_s"]) for r in self.rows(person)["progress"])

    def owners(self) -> list[Person]:
        return [person for person in self.people.values() if person.owner]

    def password_hashes(self) -> list[str]:
        return [row[0] for row in query_db(self.app, "SELECT password_hash FROM users")]


def check(response, expected: Expect, who: str, route: Route) -> str:
    """Assert the answer is the expected one; return its body."""
    body = response.get_data(as_text=True)
    response.close()  # a static file's answer holds the file open until closed
    context = f"{route.key} as {who}: {response.status_code} {body[:300]!r}"
    assert response.status_code == expected.status, context
    assert expected.says in body, context
    if expected.goes_to:
        assert response.headers["Location"].split("?")[0].split("#")[0] == expected.goes_to, context
    return body


def assert_shows_nothing_of_others(world: World, who: Person, route: Route, body: str) -> None:
    """No one else's chat, email, name or token, and no password hash, in what `who` got back."""
    admin_page_for_admin = who.kind == "admin" and route.endpoint.startswith("admin.")
    for other in world.owners():
        if other is who:
            continue
        hidden = other.credentials if admin_page_for_admin else other.private + other.credentials
        for secret in hidden:
            assert secret not in body, f"{route.key} shows {who.name} {secret!r} of {other.name}"
    for secret in world.password_hashes():
        assert secret not in body and secret.split("$")[-1] not in body, f"{route.key} shows a password hash"
    assert not re.search(r"(scrypt|pbkdf2):", body), f"{route.key} shows {who.name} a password hash"


def learn_a_little(client: OwnContextClient, ids: dict, seconds: int, marker: str) -> None:
    """Time on a lens, that lens completed, a chat answered, and a question left waiting."""
    heartbeat = fill({**HEARTBEAT, "time_delta_s": seconds}, ids)
    assert client.post("/api/progress/time", json=heartbeat, headers=FROM_OUR_PAGES).status_code == 204
    completion = {"content_id": ids["lens_id"], "content_type": "lens", "module_slug": MODULE}
    assert client.post("/api/progress/complete", json=completion, headers=FROM_OUR_PAGES).status_code == 200
    chat = {"message": f"{marker}: why do we forget?"}
    answered = client.post(f"/api/modules/{MODULE}/{CHAT_LENS}/chat", json=chat, headers=FROM_OUR_PAGES)
    assert answered.status_code == 200 and "event: done" in answered.get_data(as_text=True)
    waiting = {"csrf_token": csrf_token(client, CHAT_PAGE), "message": f"{marker}: and how do I remember?"}
    assert client.post(f"{CHAT_PAGE}/chat", data=waiting).status_code == 303


def user_id(app, email: str) -> int:
    return query_db(app, "SELECT id FROM users WHERE email = :email", email=email)[0][0]


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """Salted hashes that are quick to make and check: scrypt's deliberate cost would add a minute here."""
    quick = partial(generate_password_hash, method="pbkdf2:sha256:1000")
    monkeypatch.setattr("tracker.accounts.generate_password_hash", quick)


@pytest.fixture
def world(app, demo) -> World:
    """A visitor, learner A, learner B, B's anonymous self and an admin; each learner with progress and chats."""
    module = demo.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LENS)
    ids = {"lens_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id)}

    create_admin(app)
    admin = OwnContextClient(app)
    login = {"csrf_token": csrf_token(admin), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    assert admin.post("/login", data=login).status_code == 303
    a, b = Account(app, A_EMAIL, A_NAME).client, Account(app, B_EMAIL, B_NAME).client
    b_token = str(uuid.uuid4())
    b_anonymous = OwnContextClient(app)
    b_anonymous.client.set_cookie("tracker_anon", b_token)  # a browser that has learned anonymously before

    for client, seconds, marker in ((a, 41, A_MARKER), (b, 97, B_MARKER), (b_anonymous, 83, B_ANONYMOUS_MARKER)):
        learn_a_little(client, ids, seconds, marker)

    with app.app_context(), db.engine.connect() as conn:
        ids["b_anonymous_row_id"] = conn.execute(
            select(progress.c.id).where(progress.c.anonymous_token == uuid.UUID(b_token)).order_by(progress.c.id)
        ).scalars().first()
    ids["b_user_id"] = user_id(app, B_EMAIL)
    return World(app, ids, [
        Person("visitor", "visitor", OwnContextClient(app)),
        Person("learner A", "account", a, {"user_id": user_id(app, A_EMAIL)}, (A_MARKER, A_EMAIL, A_NAME), marker=A_MARKER),
        Person("admin", "admin", admin, {"user_id": user_id(app, ADMIN_EMAIL)}, (ADMIN_EMAIL,)),
        Person(
            "learner B anonymously", "token", b_anonymous, {"anonymous_token": uuid.UUID(b_token)},
            (B_ANONYMOUS_MARKER,), (b_token, b_token.replace("-", "")), B_ANONYMOUS_MARKER,
        ),
        Person("learner B", "account", b, {"user_id": ids["b_user_id"]}, (B_MARKER, B_EMAIL, B_NAME), marker=B_MARKER),
    ])


def test_every_route_and_method_has_a_row_in_the_matrix(app):
    """A route added without saying who may use it fails here."""
    served = {
        f"{rule.endpoint} {method}" for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    keys = [route.key for route in ROUTES]
    assert len(keys) == len(set(keys)), "a route is in the matrix twice"
    assert set(keys) == served


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.key)
def test_every_identity_gets_its_answer_and_changes_only_its_own_rows(world, route):
    """The matrix: each identity gets its expected answer, sees no one else's data, and writes only its own."""
    for who in world.people.values():
        others = [other for other in world.owners() if other is not who]
        before = {other.name: world.rows(other) for other in others}
        body = check(world.call(who, route), getattr(route, who.kind), who.name, route)
        assert_shows_nothing_of_others(world, who, route, body)
        if route.shows and who.owner:
            route.shows(world, who, body)
        for other in others:
            assert world.rows(other) == before[other.name], f"{route.key} as {who.name} changed {other.name}'s rows"


# Ways for A, logged in, to name learner B: B's anonymous token in each place the app reads one,
# or B's account id and token as extra fields in the query and the body.
CHANNELS = ["header", "query", "cookie", "fields"]


@pytest.mark.parametrize("channel", CHANNELS)
def test_learner_a_can_never_read_or_write_learner_bs_progress_or_chats(world, channel):
    """Logged in, A is A whatever token or id A sends: A's own answers, nothing of B's, B's rows untouched."""
    a, b, b_anonymous = (world.people[name] for name in ("learner A", "learner B", "learner B anonymously"))
    b_token = str(b_anonymous.owner["anonymous_token"])
    headers, query, fields = {}, None, None
    if channel == "header":
        headers = {"X-Anonymous-Token": b_token}
    elif channel == "query":
        query = {"anonymous_token": b_token}
    elif channel == "cookie":
        a.client.client.set_cookie("tracker_anon", b_token)
    else:
        query = {"user_id": world.ids["b_user_id"]}
        fields = {"user_id": world.ids["b_user_id"], "anonymous_token": b_token}
    untouched = {person.name: world.rows(person) for person in (b, b_anonymous)}
    # Every route that acts for a learner; deleting comes last, so the routes before it have A's data to show.
    learner_routes = sorted(
        (route for route in ROUTES if route.endpoint.startswith(("api.", "learn."))),
        key=lambda route: route.endpoint == "learn.delete",
    )
    for route in learner_routes:
        body = check(world.call(a, route, headers, query, fields), route.account, f"A with B via {channel}", route)
        assert_shows_nothing_of_others(world, a, route, body)
        if route.shows:
            route.shows(world, a, body)
        assert {person.name: world.rows(person) for person in (b, b_anonymous)} == untouched, route.key
    assert world.rows(a)["progress"] == [], "A's delete deleted A's rows, not B's"


def test_deleting_my_data_deletes_all_of_mine_and_nothing_of_anyone_elses(world):
    """A's delete empties A's progress and chats and leaves every other learner's rows as they were."""
    a = world.people["learner A"]
    others = {person.name: world.rows(person) for person in world.owners() if person is not a}
    mine = world.rows(a)
    count = len(mine["progress"]) + len(mine["chat messages"])
    response = a.client.post("/me/delete", data={"csrf_token": csrf_token(a.client, "/me/delete")})
    assert response.status_code == 303
    assert f"Deleted your progress ({count} records)." in a.client.get("/me").get_data(as_text=True)
    assert world.rows(a) | {"account": mine["account"]} == {
        "progress": [], "chat sessions": [], "chat messages": [], "question answers": [], "account": mine["account"]
    }
    assert {person.name: world.rows(person) for person in world.owners() if person is not a} == others


def test_admin_reads_bs_pages_and_exports_but_never_a_full_token_or_password_hash(world):
    """Admins see B's chats and email; anonymous learners appear as 8 characters of their token at most."""
    admin, b_anonymous = world.people["admin"], world.people["learner B anonymously"]
    token = str(b_anonymous.owner["anonymous_token"])
    account_page = admin.client.get(f"/admin/learners/{world.ids['b_user_id']}").get_data(as_text=True)
    assert B_MARKER in account_page and B_EMAIL in account_page and B_NAME in account_page
    assert A_MARKER not in account_page, "B's learner page shows B's chats only"
    anonymous_page = admin.client.get(f"/admin/learners/anonymous/{world.ids['b_anonymous_row_id']}").get_data(as_text=True)
    assert B_ANONYMOUS_MARKER in anonymous_page and f"Anonymous · {token[:8]}" in anonymous_page
    assert B_MARKER not in anonymous_page, "B's anonymous self and B's account are separate learners"
    assert B_EMAIL in admin.client.get("/admin/exports/learners.csv").get_data(as_text=True)
    xapi = [json.loads(line) for line in admin.client.get("/admin/exports/xapi.jsonl").get_data(as_text=True).splitlines()]
    assert any(statement["actor"].get("mbox") == f"mailto:{B_EMAIL}" for statement in xapi)

    searched = f"/admin/learners?q={token[:8]}"  # an admin may search by a token's first characters
    assert f"Anonymous · {token[:8]}" in admin.client.get(searched).get_data(as_text=True)
    for path in [route.path.format(**world.ids) for route in ROUTES if route.endpoint.startswith("admin.")] + [searched]:
        body = admin.client.get(path).get_data(as_text=True)
        assert token not in body and token.replace("-", "") not in body, path
        assert token[:9] not in body.replace(f"Anonymous · {token[:8]}", ""), path
        for secret in world.password_hashes():
            assert secret not in body and secret.split("$")[-1] not in body, path
