"""Invite links: a logged-in learner who opens one joins the group; an anonymous visitor logs in or
signs up first and comes back with their progress; a revoked, expired or unknown link gets a page
that says so; one group per cohort; leaving keeps progress; the learner's data holds their groups."""
import json
from datetime import timedelta
from html import unescape

import pytest

from support.admin import Account, OwnContextClient
from support.cohorts import quick_password_hashes  # noqa: F401  (an autouse fixture)
from support.cohorts import COHORTS, invite_path, join, make_cohort, make_group, membership_rows, post_form
from support.csrf import csrf_token
from support.database import query_db
from tracker import cohorts
from tracker.clock import utc_now

ADA, BEA = "ada@example.org", "bea@example.org"
PASSWORD = "learner password 1"  # support.admin.Account's
MODULE, LENS = "how-memory-works", "memory-in-three-stages"
FROM_OUR_PAGES = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def cohort(app, admin):
    """Spring 2027 (Tuesdays at 18:00 UTC from 4 January 2027) with groups A and B, and an invite link to each."""
    cohort_id = make_cohort(admin)
    groups = {name: make_group(app, admin, cohort_id, name) for name in ("Group A", "Group B")}
    links = {name: invite_path(admin, cohort_id, group) for name, group in groups.items()}
    return cohort_id, groups, links


def text(response) -> str:
    """The page as a reader sees its text: entities decoded, runs of white space as one space."""
    return " ".join(unescape(response.get_data(as_text=True)).split())


def spend_time(client, demo, seconds: int = 40):
    """Time on a lens of the demo course, through the API as the lens page sends it."""
    module = demo.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LENS)
    body = {"content_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id), "time_delta_s": seconds}
    assert client.post("/api/progress/time", json=body, headers=FROM_OUR_PAGES).status_code == 204


def account_time(app, email: str) -> int:
    return query_db(app, "SELECT COALESCE(SUM(p.total_time_spent_s), 0) FROM user_content_progress p JOIN users u"
                         " ON u.id = p.user_id WHERE u.email = :email AND p.content_type = 'module'", email=email)[0][0]


def test_a_logged_in_learner_sees_the_group_and_joins_it_then_lands_on_the_course(app, cohort, demo):
    _, _, links = cohort
    ada = Account(app, ADA).client
    page = text(ada.get(links["Group A"]))
    assert "Join the group “Group A”" in page and "Cohort “Spring 2027”" in page and demo.courses[0].title in page
    assert "Next meeting:" in page and ">Join group</button>" in page

    response = join(ada, links["Group A"])
    assert response.status_code == 303 and response.headers["Location"] == "/courses/study-skills"
    assert "You joined the group “Group A” of the cohort “Spring 2027”." in text(ada.get("/courses/study-skills"))
    assert membership_rows(app) == {(ADA, "Group A")}


def test_joining_twice_changes_nothing(app, cohort):
    _, _, links = cohort
    ada = Account(app, ADA).client
    join(ada, links["Group A"])
    first = query_db(app, "SELECT id, joined_at FROM group_memberships")
    response = join(ada, links["Group A"])
    assert response.status_code == 303
    assert "You are already in the group “Group A”" in text(ada.get("/courses/study-skills"))
    assert query_db(app, "SELECT id, joined_at FROM group_memberships") == first


def test_one_link_lets_every_learner_who_has_it_join(app, cohort):
    _, _, links = cohort
    for email in (ADA, BEA):
        assert join(Account(app, email).client, links["Group A"]).status_code == 303
    assert membership_rows(app) == {(ADA, "Group A"), (BEA, "Group A")}


def test_a_learner_in_one_group_of_the_cohort_is_refused_by_anothers_link_and_stays(app, cohort, database_snapshot):
    _, _, links = cohort
    ada = Account(app, ADA).client
    join(ada, links["Group A"])
    before = database_snapshot()
    response = join(ada, links["Group B"])
    assert response.status_code == 409
    assert "You are already in the group “Group A” of the cohort “Spring 2027”" in text(response)
    assert database_snapshot() == before


def test_a_revoked_link_gets_a_page_that_says_so_and_joins_no_one(app, admin, cohort, database_snapshot):
    cohort_id, _, links = cohort
    [(invite_id,)] = query_db(app, "SELECT id FROM group_invites WHERE group_id = (SELECT id FROM cohort_groups WHERE name = 'Group A')")
    assert post_form(admin, f"{COHORTS}/{cohort_id}/invites/{invite_id}/revoke", {}).status_code == 303
    assert ">revoked " in admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True)
    ada = Account(app, ADA).client
    before = database_snapshot()
    page = ada.get(links["Group A"])
    assert page.status_code == 410 and "<h1>This invite link was withdrawn</h1>" in text(page)
    refused = ada.post(links["Group A"], data={"csrf_token": csrf_token(ada, "/me")})
    assert refused.status_code == 410 and "withdrawn" in text(refused)
    assert database_snapshot() == before
    assert join(ada, links["Group B"]).status_code == 303, "the other group's link still works"


def test_an_expired_link_gets_a_page_that_says_when_it_ran_out(app, cohort, database_snapshot):
    cohort_id, groups, _ = cohort
    made = utc_now() - timedelta(days=3)
    invite = cohorts.create_invite(app.extensions["tracker.db"], cohort_id, group_id=str(groups["Group A"]), created_by=admin_id(app),
                                   expires_in_days="2", now=made)
    ada = Account(app, ADA).client
    before = database_snapshot()
    page = ada.get(f"/join/{invite.token}")
    assert page.status_code == 410 and "<h1>This invite link has expired</h1>" in text(page)
    assert f"It worked until {made + timedelta(days=2):%-d %B %Y, %H:%M} UTC" in text(page)
    assert ada.post(f"/join/{invite.token}", data={"csrf_token": csrf_token(ada, "/me")}).status_code == 410
    assert database_snapshot() == before


def admin_id(app) -> int:
    return query_db(app, "SELECT id FROM users WHERE is_admin")[0][0]


def test_a_link_made_without_an_expiry_never_expires(app, admin, cohort):
    cohort_id, groups, _ = cohort
    path = invite_path(admin, cohort_id, groups["Group A"], expires_in_days="")
    assert query_db(app, "SELECT expires_at FROM group_invites ORDER BY id DESC LIMIT 1")[0][0] is None
    assert join(Account(app, ADA).client, path).status_code == 303


@pytest.mark.parametrize("token", ["not-a-token", "x" * 43, "a" * 5000, "%00"])
def test_an_unknown_link_gets_a_404_page_that_says_so(app, cohort, token, database_snapshot):
    ada = Account(app, ADA).client
    before = database_snapshot()
    page = ada.get(f"/join/{token}")
    assert page.status_code == 404 and "<h1>This invite link is not valid</h1>" in text(page)
    assert ada.post(f"/join/{token}", data={"csrf_token": csrf_token(ada, "/me")}).status_code == 404
    assert database_snapshot() == before


def test_only_a_hash_of_the_token_is_stored(app, cohort):
    _, _, links = cohort
    stored = {row[0] for row in query_db(app, "SELECT token_sha256 FROM group_invites")}
    for path in links.values():
        token = path.removeprefix("/join/")
        assert len(token) >= 43 and token not in stored and cohorts.invites.token_hash(token) in stored


# --- An anonymous visitor ------------------------------------------------------------------------


def test_an_anonymous_visitor_logs_in_comes_back_joins_and_their_progress_came_along(app, cohort, demo):
    _, _, links = cohort
    Account(app, ADA)  # an account made earlier, in another browser
    visitor = OwnContextClient(app)
    page = text(visitor.get(links["Group A"]))
    assert ">Join group</button>" not in page
    assert f'href="/login?next={links["Group A"]}">log in</a>' in page
    assert f'href="/signup?next={links["Group A"]}">sign up</a>' in page
    spend_time(visitor, demo, 40)

    login = {"csrf_token": csrf_token(visitor, f"/login?next={links['Group A']}"), "email": ADA, "password": PASSWORD,
             "next": links["Group A"]}
    response = visitor.post("/login", data=login)
    assert response.status_code == 303 and response.headers["Location"] == links["Group A"]
    assert ">Join group</button>" in text(visitor.get(links["Group A"]))
    assert join(visitor, links["Group A"]).status_code == 303
    assert membership_rows(app) == {(ADA, "Group A")}
    assert account_time(app, ADA) == 40, "the anonymous seconds moved into the account"


def test_an_anonymous_visitor_signs_up_from_the_invite_and_joins(app, cohort, demo):
    _, _, links = cohort
    visitor = OwnContextClient(app)
    visitor.get(links["Group B"])
    spend_time(visitor, demo, 25)
    signup = {"csrf_token": csrf_token(visitor, "/signup"), "email": BEA, "password": PASSWORD, "next": links["Group B"]}
    response = visitor.post("/signup", data=signup)
    assert response.status_code == 303 and response.headers["Location"] == links["Group B"]
    assert join(visitor, links["Group B"]).status_code == 303
    assert membership_rows(app) == {(BEA, "Group B")} and account_time(app, BEA) == 25


def test_an_anonymous_join_goes_back_to_the_invite_and_writes_nothing(app, cohort, database_snapshot):
    _, _, links = cohort
    visitor = OwnContextClient(app)
    before = database_snapshot()
    response = join(visitor, links["Group A"], form_page="/login")
    assert response.status_code == 303 and response.headers["Location"] == links["Group A"]
    assert database_snapshot() == before


def test_joining_without_the_csrf_token_is_refused(app, cohort, database_snapshot):
    _, _, links = cohort
    ada = Account(app, ADA).client
    before = database_snapshot()
    assert ada.post(links["Group A"]).status_code == 400
    assert database_snapshot() == before


# --- My progress, leaving, and the learner's data ----------------------------------------------------


def test_my_progress_names_my_group_and_its_next_meeting(app, cohort, demo):
    _, _, links = cohort
    ada = Account(app, ADA).client
    assert "Your group:" not in text(ada.get("/me"))
    join(ada, links["Group A"])
    page = text(ada.get("/me"))
    assert "Your group: Group A <span class=\"muted\">(cohort Spring 2027)</span>" in page
    first = demo.courses[0].meetings[0]
    due = ", ".join(f'<a href="/modules/{ref.module.slug}">{ref.module.title}</a>' for ref in demo.courses[0].module_refs[:2])
    assert f"Next meeting: {first.name}, Tue 5 Jan 2027, 18:00 (UTC); due by then: {due}." in page
    assert ">Leave group</button>" in page


def test_leaving_a_group_keeps_my_progress(app, cohort, demo):
    _, groups, links = cohort
    ada = Account(app, ADA).client
    join(ada, links["Group A"])
    spend_time(ada, demo, 55)
    progress_before = query_db(app, "SELECT * FROM user_content_progress ORDER BY id")
    response = ada.post(f"/me/groups/{groups['Group A']}/leave", data={"csrf_token": csrf_token(ada, "/me")})
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    page = text(ada.get("/me"))
    assert "You left the group. Your progress is kept." in page and "Your group:" not in page
    assert membership_rows(app) == set()
    assert query_db(app, "SELECT * FROM user_content_progress ORDER BY id") == progress_before
    assert join(ada, links["Group B"]).status_code == 303, "having left, a learner may join another group"
    assert membership_rows(app) == {(ADA, "Group B")}


def test_leaving_a_group_i_am_not_in_changes_nothing(app, cohort, database_snapshot):
    _, groups, links = cohort
    ada, bea = Account(app, ADA).client, Account(app, BEA).client
    join(bea, links["Group A"])
    before = database_snapshot()
    response = ada.post(f"/me/groups/{groups['Group A']}/leave", data={"csrf_token": csrf_token(ada, "/me")})
    assert response.status_code == 303 and "You were not in that group." in text(ada.get("/me"))
    assert database_snapshot() == before


def test_my_data_download_holds_my_groups_and_deleting_my_data_takes_me_out_of_them(app, cohort, demo):
    _, _, links = cohort
    ada, bea = Account(app, ADA).client, Account(app, BEA).client
    join(ada, links["Group A"])
    join(bea, links["Group A"])
    spend_time(ada, demo, 30)
    exported = json.loads(ada.get("/me/export.json").get_data(as_text=True))
    [membership] = exported["account"]["group_memberships"]
    assert membership["cohort"] == "Spring 2027" and membership["group"] == "Group A" and membership["course_slug"] == "study-skills"
    assert membership["joined_at"].endswith("+00:00")

    response = ada.post("/me/delete", data={"csrf_token": csrf_token(ada, "/me/delete")})
    assert response.status_code == 303
    assert membership_rows(app) == {(BEA, "Group A")}, "only mine went"
    assert query_db(app, "SELECT COUNT(*) FROM users WHERE email = :e", e=ADA)[0][0] == 1, "the account stays"
    assert json.loads(ada.get("/me/export.json").get_data(as_text=True))["account"]["group_memberships"] == []


def test_an_anonymous_learners_download_has_no_groups(client):
    client.get("/")
    assert json.loads(client.get("/me/export.json").get_data(as_text=True))["account"] is None, "groups are the account's"
