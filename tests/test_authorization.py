"""Authorisation matrix: every route, tried as a visitor, learner A, learner B, two facilitators and an admin.

Learner B is both an account and, separately, an anonymous learner known by a token. A can never
read or write B's progress or chats, whether through the API, the pages or the exports; no
identity's request changes anyone else's rows; admin pages never show a full token or a password hash.
Facilitator 1 facilitates the group A is in, facilitator 2 the group B is in: a facilitator gets
403 on every admin page and export, and never sees a learner outside their own group.
Rows are read through the test's own database connection, never through the app's session.
"""
import csv
import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from support.admin import ADMIN_EMAIL, ADMIN_PASSWORD, Account, OwnContextClient, create_admin, run_cli
from support.cohorts import group_id, invite_path, join, make_cohort, make_facilitator, make_group, place
from support.csrf import csrf_token
from support.database import query_db
from tracker import cohorts
from tracker.cohorts.access import Viewer
from tracker.db import db
from tracker.learn.render import duration
from tracker.learner import Learner
from tracker.models import (
    ChatMessage, ChatSession, DailyModuleTime, GroupFacilitator, GroupMembership, QuestionAnswer, User, UserContentProgress,
)

MODULE, COURSE = "how-memory-works", "study-skills"
LENS = "memory-in-three-stages"  # an article every learner spends time on and completes
CHAT_LENS = "talk-through-how-memory-works"
LENS_PAGE, CHAT_PAGE = f"/modules/{MODULE}/{LENS}", f"/modules/{MODULE}/{CHAT_LENS}"
FROM_OUR_PAGES = {"Sec-Fetch-Site": "same-origin"}  # what a browser sends with the pages' own API calls

A_EMAIL, A_NAME, A_MARKER = "ann.a2d4b@example.org", "Ann Alpha-2d4b", "A-OWN-2d4b"
B_EMAIL, B_NAME, B_MARKER = "bea.b7f3a@example.org", "Bea Bravo-7f3a", "B-SECRET-7f3a"
B_ANONYMOUS_MARKER = "B-ANON-SECRET-c91e"
F1_EMAIL, F1_NAME, F1_MARKER = "fay.f1e8c@example.org", "Fay Facilitator-1e8c", "F1-OWN-1e8c"
F2_EMAIL, F2_NAME, F2_MARKER = "gus.f2d5a@example.org", "Gus Facilitator-2d5a", "F2-OWN-2d5a"
FACILITATOR_PASSWORD = "facilitator password 1"

progress, sessions, messages, answers, users = (
    UserContentProgress.__table__, ChatSession.__table__, ChatMessage.__table__, QuestionAnswer.__table__, User.__table__
)
memberships, facilitators, ledger = GroupMembership.__table__, GroupFacilitator.__table__, DailyModuleTime.__table__


@dataclass(frozen=True)
class Expect:
    """The answer an identity must get: a status, and what shows it is for the reason meant."""

    status: int
    says: str = ""  # in the body: a refusal must name its reason, so that CSRF or a 404 cannot pass for it
    goes_to: str = ""  # the path a redirect leads to; "{g1_id}" and the like are filled in from the world

    def filled(self, ids: dict) -> "Expect":
        return replace(self, goes_to=self.goes_to.format(**ids))


OK, NO_CONTENT = Expect(200), Expect(204)
LOGIN_FIRST = Expect(302, goes_to="/login")
ADMINS_ONLY = Expect(403, "This page is for admins only.")
NO_LEARNER = Expect(401, "no learner: log in, or send an anonymous token")
NOTHING_TO_ANSWER = Expect(409, "There is no message waiting for an answer")
NO_ACCOUNT = Expect(403, "there is no account to delete")
WRONG_PASSWORD = Expect(422, "That is not this account&#39;s password")


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
    facilitator: Expect | None = None  # a logged-in facilitator; the same as `account` unless given
    person: tuple = ()  # (name, Expect) for a person whose answer differs from their kind's: a facilitator of another group

    @property
    def key(self) -> str:
        return f"{self.endpoint} {self.method}"

    def expected(self, who: "Person") -> Expect:
        if who.name in dict(self.person):
            return dict(self.person)[who.name]
        return (self.facilitator or self.account) if who.kind == "facilitator" else getattr(self, who.kind)


def admin_page(endpoint: str, path: str) -> Route:
    return Route(endpoint, "GET", path, visitor=LOGIN_FIRST, token=LOGIN_FIRST, account=ADMINS_ONLY, admin=OK)


def admin_form(endpoint: str, path: str, data: dict, answer: Expect) -> Route:
    """An admin page's form: the admin's request succeeds, and touches nobody's rows but the admin's own."""
    return Route(
        endpoint, "POST", path, visitor=LOGIN_FIRST, token=LOGIN_FIRST, account=ADMINS_ONLY, admin=answer, call="form", data=data,
    )


STAFF_ONLY = Expect(403, "These pages are for facilitators and admins.")


def facilitate_page(endpoint: str, path: str, other_facilitator: str | None = None) -> Route:
    """A facilitator page: admins and the group's facilitator see it, the other group's facilitator is refused."""
    refused = ((other_facilitator, Expect(403, "You do not facilitate this group.")),) if other_facilitator else ()
    return Route(endpoint, "GET", path, visitor=LOGIN_FIRST, token=LOGIN_FIRST, account=STAFF_ONLY, admin=OK,
                 facilitator=OK, person=refused)


def facilitate_form(endpoint: str, path: str, data: dict, answer: Expect) -> Route:
    """A form of group 1's page: its facilitator and admins get `answer`; group 2's facilitator is refused."""
    return Route(endpoint, "POST", path, visitor=LOGIN_FIRST, token=LOGIN_FIRST, account=STAFF_ONLY, admin=answer,
                 facilitator=answer, person=(("facilitator 2", Expect(403, "You do not facilitate this group.")),),
                 call="form", data=data)


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
    table = csv.DictReader(io.StringIO(body.removeprefix("\ufeff")))
    progress_rows = (row for row in table if row["record"] == "progress")
    assert sorted((row["content_id"], int(row["total_time_spent_s"])) for row in progress_rows) == world.progress_times(who)


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
    admin_page("admin.lrs_outbox", "/admin/lrs"),
    admin_page("admin.account", "/admin/learners/{b_user_id}"),  # A naming B's account by its id
    admin_page("admin.anonymous", "/admin/learners/anonymous/{b_anonymous_row_id}"),
    admin_page("admin.confirm_delete_account", "/admin/learners/{b_user_id}/delete"),  # shows B's email and what goes
    # The admin types an email that is not B's, so that nothing is deleted.
    admin_form("admin.delete_account", "/admin/learners/{b_user_id}/delete", {"email": "not-bea@example.org"},
               Expect(422, "That is not this account&#39;s email")),
    admin_page("admin.export_modules", "/admin/exports/modules.csv"),
    admin_page("admin.export_learners", "/admin/exports/learners.csv"),
    admin_page("admin.export_xapi", "/admin/exports/xapi.jsonl"),
    admin_page("admin.cohorts_list", "/admin/cohorts"),
    admin_page("admin.cohort", "/admin/cohorts/{cohort_id}"),  # lists A's and B's groups, with their emails
    admin_form("admin.create_cohort", "/admin/cohorts", {
        "course": COURSE, "name": "Made in the matrix", "starts_on": "2027-05-03", "time_zone": "UTC", "weekday": "0",
        "local_time": "10:00",
    }, Expect(303)),
    admin_form("admin.create_group", "/admin/cohorts/{cohort_id}/groups", {"name": "Made in the matrix"},
               Expect(303, goes_to="/admin/cohorts/{cohort_id}")),
    # The admin places, imports and promotes only themselves, so that no one else's rows change.
    admin_form("admin.place_learner", "/admin/cohorts/{other_cohort_id}/members", {"email": ADMIN_EMAIL, "group_id": "{g3_id}"},
               Expect(303, goes_to="/admin/cohorts/{other_cohort_id}")),
    admin_form("admin.import_members", "/admin/cohorts/{other_cohort_id}/import", {"text": f"email,group\n{ADMIN_EMAIL},Open group"},
               Expect(303, goes_to="/admin/cohorts/{other_cohort_id}")),
    admin_form("admin.add_facilitator", "/admin/cohorts/{other_cohort_id}/facilitators", {"email": ADMIN_EMAIL, "group_id": "{g3_id}"},
               Expect(303, goes_to="/admin/cohorts/{other_cohort_id}")),
    admin_form("admin.create_invite", "/admin/cohorts/{cohort_id}/invites", {"group_id": "{g1_id}", "expires_in_days": "7"},
               Expect(200, "Invite link created")),
    admin_form("admin.revoke_invite", "/admin/cohorts/{cohort_id}/invites/{spare_invite_id}/revoke", {},
               Expect(303, goes_to="/admin/cohorts/{cohort_id}")),
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
    # The invite of a group in a cohort no one is in yet: every account may join it, and each one's
    # request changes only their own rows; visitors are sent back to the invite, to log in first.
    for_everyone("learn.invite", "GET", "/join/{g3_invite}"),
    Route(
        "learn.join_group", "POST", "/join/{g3_invite}", visitor=Expect(303, goes_to="/join/{g3_invite}"),
        token=Expect(303, goes_to="/join/{g3_invite}"), account=Expect(303, goes_to=f"/courses/{COURSE}"),
        admin=Expect(303, goes_to=f"/courses/{COURSE}"), call="form",
    ),
    # A leaves group 1, which A is in; for everyone else it is a group they are not in.
    for_everyone("learn.leave_group", "POST", "/me/groups/{g1_id}/leave", Expect(303, goes_to="/me"), call="form", form_page="/me/delete"),
    for_everyone("learn.export_json", "GET", "/me/export.json", shows=own_export),
    for_everyone("learn.export_csv", "GET", "/me/export.csv", shows=own_progress_csv),
    for_everyone("learn.confirm_delete", "GET", "/me/delete"),
    for_everyone("learn.delete", "POST", "/me/delete", Expect(303, goes_to="/me"), call="form", form_page="/me/delete"),
    # Visitors and anonymous learners have no account to delete; an account's wrong password deletes nothing.
    Route("learn.confirm_delete_account", "GET", "/me/account/delete", visitor=NO_ACCOUNT, token=NO_ACCOUNT, account=OK, admin=OK),
    Route("learn.delete_account", "POST", "/me/account/delete", visitor=NO_ACCOUNT, token=NO_ACCOUNT, account=WRONG_PASSWORD,
          admin=WRONG_PASSWORD, call="form", form_page="/me/delete", data={"password": "not the password"}),
    # Each account turns its own nudges off; visitors and anonymous learners have no setting and are sent back.
    for_everyone("learn.set_nudges", "POST", "/me/nudges", Expect(303, goes_to="/me"), call="form", form_page="/me/delete",
                 data={"nudges": "off"}),
    # An unsubscribe link needs no login: whoever holds a signed one may use it (tests/test_nudges.py). One the app
    # did not sign is refused to everyone alike, and the one-click POST needs no CSRF token to be refused for that reason.
    for_everyone("learn.unsubscribe", "GET", "/nudges/unsubscribe/not-a-signed-token", Expect(400, "This unsubscribe link is not valid")),
    for_everyone("learn.one_click_unsubscribe", "POST", "/nudges/unsubscribe/not-a-signed-token",
                 Expect(400, "This unsubscribe link is not valid")),
    # The facilitator's pages: group 1 is facilitator 1's (A is in it), group 2 facilitator 2's (B is in it).
    facilitate_page("facilitate.my_groups", "/facilitate/"),
    facilitate_page("facilitate.group", "/facilitate/groups/{g1_id}", other_facilitator="facilitator 2"),
    facilitate_page("facilitate.group_csv", "/facilitate/groups/{g1_id}/members.csv", other_facilitator="facilitator 2"),
    facilitate_page("facilitate.member", "/facilitate/groups/{g2_id}/members/{b_user_id}", other_facilitator="facilitator 1"),
    facilitate_form("facilitate.create_invite", "/facilitate/groups/{g1_id}/invites", {"expires_in_days": "7"}, OK),
    facilitate_form("facilitate.revoke_invite", "/facilitate/groups/{g1_id}/invites/{spare_invite_id}/revoke", {},
                    Expect(303, goes_to="/facilitate/groups/{g1_id}")),
    Route("facilitate.cohort", "GET", "/facilitate/cohorts/{cohort_id}", visitor=LOGIN_FIRST, token=LOGIN_FIRST,
          account=STAFF_ONLY, admin=OK, facilitator=Expect(403, "Comparing the groups of a cohort is for admins.")),
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
    kind: str  # "visitor", "token", "account", "facilitator" or "admin": the matrix column that applies
    client: OwnContextClient
    owner: dict | None = None  # {"user_id": ...} or {"anonymous_token": ...}; the visitor owns nothing yet
    private: tuple = ()  # only the owner, and an admin on admin pages, may see these
    credentials: tuple = ()  # only the owner may ever see these
    marker: str = ""  # text in the person's own chat messages
    members: tuple = ()  # a facilitator's: the people in their group, whom facilitator pages may show them


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
                "ledger days": conn.execute(select(ledger).where(ledger.c[column] == value).order_by(ledger.c.id)),
            }
            if column == "user_id":
                found["account"] = conn.execute(select(users).where(users.c.id == value))
                found["group memberships"] = conn.execute(
                    select(memberships).where(memberships.c.user_id == value).order_by(memberships.c.id)
                )
                found["groups facilitated"] = conn.execute(
                    select(facilitators).where(facilitators.c.user_id == value).order_by(facilitators.c.id)
                )
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


def may_see_private(who: Person, other: Person, route: Route) -> bool:
    """Staff pages show staff learners' private data: an admin's everyone's, a facilitator's only their members'."""
    if who.kind == "admin":
        return route.endpoint.startswith(("admin.", "facilitate."))
    return who.kind == "facilitator" and route.endpoint.startswith("facilitate.") and other.name in who.members


def assert_shows_nothing_of_others(world: World, who: Person, route: Route, body: str) -> None:
    """No one else's chat, email, name or token, and no password hash, in what `who` got back."""
    for other in world.owners():
        if other is who:
            continue
        hidden = other.credentials if may_see_private(who, other, route) else other.private + other.credentials
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
    """A visitor, learners A and B, B's anonymous self, two facilitators and an admin; each learner with progress and chats.

    In the cohort, A is in group 1, which facilitator 1 facilitates, and B in group 2, facilitator 2's.
    A second cohort has an open group that no one is in yet, with an invite link for the matrix.
    """
    module = demo.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LENS)
    ids = {"lens_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id)}

    create_admin(app)
    admin = log_in(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    a, b = Account(app, A_EMAIL, A_NAME).client, Account(app, B_EMAIL, B_NAME).client
    f1, f2 = (facilitator(app, email, name) for email, name in ((F1_EMAIL, F1_NAME), (F2_EMAIL, F2_NAME)))
    b_token = str(uuid.uuid4())
    b_anonymous = OwnContextClient(app)
    b_anonymous.client.set_cookie("tracker_anon", b_token)  # a browser that has learned anonymously before

    learners = ((a, 41, A_MARKER), (b, 97, B_MARKER), (b_anonymous, 83, B_ANONYMOUS_MARKER), (f1, 29, F1_MARKER), (f2, 31, F2_MARKER))
    for client, seconds, marker in learners:
        learn_a_little(client, ids, seconds, marker)
    ids.update(cohorts_of_the_world(app, admin, a))

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
        Person("facilitator 1", "facilitator", f1, {"user_id": user_id(app, F1_EMAIL)}, (F1_MARKER, F1_EMAIL, F1_NAME),
               marker=F1_MARKER, members=("learner A",)),
        Person("facilitator 2", "facilitator", f2, {"user_id": user_id(app, F2_EMAIL)}, (F2_MARKER, F2_EMAIL, F2_NAME),
               marker=F2_MARKER, members=("learner B",)),
    ])


def log_in(app, email: str, password: str) -> OwnContextClient:
    browser = OwnContextClient(app)
    login = {"csrf_token": csrf_token(browser), "email": email, "password": password}
    assert browser.post("/login", data=login).status_code == 303
    return browser


def facilitator(app, email: str, name: str) -> OwnContextClient:
    """An account made with `flask tracker create-facilitator`, logged in in a browser of its own."""
    run_cli(app, "create-facilitator", email, "--name", name, input=FACILITATOR_PASSWORD + "\n")
    return log_in(app, email, FACILITATOR_PASSWORD)


def cohorts_of_the_world(app, admin: OwnContextClient, a: OwnContextClient) -> dict:
    """The cohort of groups 1 (A, facilitator 1) and 2 (B, facilitator 2), and another with an open group; their ids."""
    cohort_id = make_cohort(admin, "Matrix cohort")
    g1, g2 = make_group(app, admin, cohort_id, "Group one"), make_group(app, admin, cohort_id, "Group two")
    assert join(a, invite_path(admin, cohort_id, g1)).status_code == 303
    assert place(admin, cohort_id, B_EMAIL, g2).status_code == 303
    for email, group in ((F1_EMAIL, g1), (F2_EMAIL, g2)):
        assert make_facilitator(admin, cohort_id, email, group).status_code == 303
    other_cohort_id = make_cohort(admin, "Matrix cohort, later")
    g3 = make_group(app, admin, other_cohort_id, "Open group")
    g3_invite = invite_path(admin, other_cohort_id, g3).removeprefix("/join/")
    [(spare_invite_id,)] = query_db(app, "SELECT MAX(id) FROM group_invites WHERE group_id = :g", g=g1)
    assert group_id(app, cohort_id, "Group one") == g1
    return {"cohort_id": cohort_id, "other_cohort_id": other_cohort_id, "g1_id": g1, "g2_id": g2, "g3_id": g3,
            "g3_invite": g3_invite, "spare_invite_id": spare_invite_id}


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
        body = check(world.call(who, route), route.expected(who).filled(world.ids), who.name, route)
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
        body = check(world.call(a, route, headers, query, fields), route.expected(a).filled(world.ids), f"A with B via {channel}", route)
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
    assert mine["group memberships"], "A is in a group, and leaves it with the rest"
    count = sum(len(mine[kind]) for kind in ("progress", "chat messages", "ledger days", "group memberships"))
    response = a.client.post("/me/delete", data={"csrf_token": csrf_token(a.client, "/me/delete")})
    assert response.status_code == 303
    assert f"Deleted your progress ({count} records)." in a.client.get("/me").get_data(as_text=True)
    assert world.rows(a) | {"account": mine["account"]} == {
        "progress": [], "chat sessions": [], "chat messages": [], "question answers": [], "ledger days": [],
        "account": mine["account"], "group memberships": [], "groups facilitated": [],
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
    b_pseudonym = str(uuid.UUID(str(query_db(world.app, "SELECT pseudonym FROM users WHERE id = :id", id=world.ids["b_user_id"])[0][0])))
    assert any(statement["actor"].get("account", {}).get("name") == b_pseudonym for statement in xapi)

    searched = f"/admin/learners?q={token[:8]}"  # an admin may search by a token's first characters
    assert f"Anonymous · {token[:8]}" in admin.client.get(searched).get_data(as_text=True)
    admin_pages = [route.path.format(**world.ids) for route in ROUTES if route.endpoint.startswith("admin.") and route.method == "GET"]
    for path in admin_pages + [searched]:
        body = admin.client.get(path).get_data(as_text=True)
        assert token not in body and token.replace("-", "") not in body, path
        assert token[:9] not in body.replace(f"Anonymous · {token[:8]}", ""), path
        for secret in world.password_hashes():
            assert secret not in body and secret.split("$")[-1] not in body, path


def test_a_facilitator_may_see_the_learners_of_their_group_and_no_one_else(world):
    """The one place that decides (tracker/cohorts/access.py), asked about everyone in the world."""
    services = world.app.extensions["tracker.db"]
    learner_of = {person.name: Learner(**person.owner) for person in world.owners()}
    with world.app.app_context():
        viewer_of = {person.name: viewer(world, person) for person in world.owners()}
    expected = {
        "facilitator 1": {"learner A", "facilitator 1"},
        "facilitator 2": {"learner B", "facilitator 2"},
        "learner A": {"learner A"},
        "learner B": {"learner B"},
        "learner B anonymously": {"learner B anonymously"},
        "admin": set(learner_of),
    }
    for name, sees in expected.items():
        seen = {other for other, learner in learner_of.items() if cohorts.access.may_see_learner(services, viewer_of[name], learner)}
        assert seen == sees, name
    g1, g2 = world.ids["g1_id"], world.ids["g2_id"]
    assert [cohorts.access.may_see_group(services, viewer_of["facilitator 1"], g) for g in (g1, g2)] == [True, False]
    assert [cohorts.access.may_see_group(services, viewer_of["facilitator 2"], g) for g in (g1, g2)] == [False, True]
    assert not any(cohorts.access.may_see_group(services, viewer_of["learner A"], g) for g in (g1, g2)), "a member is no facilitator"
    assert all(cohorts.access.may_see_group(services, viewer_of["admin"], g) for g in (g1, g2))


def test_a_search_filtered_by_what_a_facilitator_may_see_finds_only_their_members(world):
    """visible_learner_ids, the filter every list, search and export of learners applies."""
    with world.app.app_context(), db.engine.connect() as conn:
        def found(name: str):
            visible = cohorts.access.visible_learner_ids(viewer(world, world.people[name]))
            query = select(users.c.email) if visible is None else select(users.c.email).where(users.c.id.in_(visible))
            return set(conn.execute(query).scalars())

        assert found("facilitator 1") == {A_EMAIL}
        assert found("facilitator 2") == {B_EMAIL}
        assert found("learner A") == set() and found("learner B") == set()
        assert found("admin") == {A_EMAIL, B_EMAIL, F1_EMAIL, F2_EMAIL, ADMIN_EMAIL}


def test_without_the_facilitator_role_being_listed_as_a_groups_facilitator_grants_nothing(world):
    with world.app.app_context(), db.engine.begin() as conn:
        conn.execute(users.update().where(users.c.email == F1_EMAIL).values(is_facilitator=False))
    services, f1 = world.app.extensions["tracker.db"], world.people["facilitator 1"]
    with world.app.app_context():
        former = viewer(world, f1)
    assert not cohorts.access.may_see_learner(services, former, Learner(**world.people["learner A"].owner))
    assert not cohorts.access.may_see_group(services, former, world.ids["g1_id"])


def viewer(world: World, person: Person) -> Viewer:
    """The Viewer of a person as the app makes it from the logged-in user (a token's: from the token)."""
    if "anonymous_token" in person.owner:
        return Viewer.of(None, person.owner["anonymous_token"])
    with db.engine.connect() as conn:
        account = conn.execute(select(users).where(users.c.id == person.owner["user_id"])).one()
    return Viewer.of(type("LoggedIn", (), {"is_authenticated": True, **account._mapping})())
