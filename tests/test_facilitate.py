"""The facilitator's pages through the real routes: my groups, a group against its next meeting, one member, the CSV.

The cohort (tests/support/groups.py) started two days ago at UTC midnight and first meets four
days after its start, so half of the preparation time has gone by: a member is behind when they
have not completed every required lens of the two modules due by then, and have spent less than
half of those modules' estimates on them.
"""
import csv
import re
import io
from datetime import datetime, timezone

import pytest

from support.admin import ADMIN_EMAIL, ADMIN_PASSWORD, OwnContextClient, create_admin
from support.csrf import csrf_token
from support.groups import DUE_BY_FIRST_MEETING, make_groups, work
from tracker.content.estimates import estimate_s

# Setting up a member who has spent an hour takes one heartbeat of an hour: the budget is not
# what these tests are about (tests/test_budget.py is), so it lets one heartbeat carry it.
pytestmark = pytest.mark.app_config(TRACKER_BURST_S=10_000_000, TRACKER_MAX_DELTA_S=100_000)


def due_estimate_s(demo) -> int:
    modules = [demo.modules_by_slug[slug] for slug in DUE_BY_FIRST_MEETING]
    return sum(estimate_s(s.lens, demo.chat_allowance_s) for m in modules for s in m.sections if not s.optional)


def expected_now_s(groups, demo) -> float:
    """Half the estimates, give or take the seconds the test has run: the share of the time gone by."""
    now = datetime.now(timezone.utc)
    share = (now - groups.opened) / (groups.first_meeting - groups.opened)
    return share * due_estimate_s(demo)


def member_rows(html: str) -> dict[str, str]:
    """{member name: their table row's HTML}, from the group table."""
    table = html[html.index('<table id="members">'):html.index("</table>", html.index('<table id="members">'))]
    rows = {}
    for chunk in table.split("<tr")[2:]:
        link = chunk[chunk.index("<a href="):chunk.index("</a>")]
        rows[link.rsplit(">", 1)[1]] = chunk
    return rows


@pytest.fixture
def groups(app):
    return make_groups(app)


def complete_everything_due(account, demo):
    for slug in DUE_BY_FIRST_MEETING:
        for section in demo.modules_by_slug[slug].sections:
            if not section.optional:
                work(account, demo, slug, section.lens.name, complete=True)


def test_the_group_page_flags_behind_at_its_boundaries(groups, demo):
    facilitator = groups.facilitator("fran@example.org", "Oak")
    ready, on_time, short, idle = (groups.member(f"{n}@example.org", "Oak") for n in ("ready", "ontime", "short", "idle"))
    complete_everything_due(ready, demo)
    expected = expected_now_s(groups, demo)
    lens = demo.modules_by_slug["how-memory-works"].sections[0].lens.name
    work(on_time, demo, "how-memory-works", lens, round(expected) + 5)  # just above the share: not behind yet
    work(short, demo, "how-memory-works", lens, round(expected) - 5, complete=True)  # just below it, lenses left: behind
    response = facilitator.client.get(f"/facilitate/groups/{groups.group_ids['Oak']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = member_rows(html)
    assert set(rows) == {"Ready", "Ontime", "Short", "Idle"}
    behind = {name for name, row in rows.items() if ">behind</span>" in row}
    assert behind == {"Short", "Idle"}
    assert list(rows)[:2] == ["Idle", "Short"], "behind first, then by name"
    assert 'id="ready-count">1<' in html and 'id="behind-count">2<' in html
    required = sum(len(demo.modules_by_slug[s].required_lens_ids) for s in DUE_BY_FIRST_MEETING)
    assert f"{required} of {required}" in rows["Ready"] and f"1 of {required}" in rows["Short"]
    assert "Remembering on purpose" in html, "the next meeting, by name"


def test_a_member_who_completed_everything_due_is_never_behind_even_in_no_time(groups, demo):
    facilitator = groups.facilitator("fran@example.org", "Oak")
    quick = groups.member("quick@example.org", "Oak")
    complete_everything_due(quick, demo)  # in no time at all
    html = facilitator.client.get(f"/facilitate/groups/{groups.group_ids['Oak']}").get_data(as_text=True)
    assert ">behind</span>" not in member_rows(html)["Quick"] and 'id="ready-count">1<' in html


def test_once_a_meeting_has_passed_the_next_ones_modules_are_due_too(app, demo):
    groups = make_groups(app, days_since_start=3, days_to_first_meeting=3)  # the first meeting was at midnight
    facilitator = groups.facilitator("fran@example.org", "Oak")
    member = groups.member("mia@example.org", "Oak")
    complete_everything_due(member, demo)  # what the first meeting asked for, and no more
    html = facilitator.client.get(f"/facilitate/groups/{groups.group_ids['Oak']}").get_data(as_text=True)
    assert "A study plan that lasts" in html and demo.modules_by_slug["spacing-and-interleaving"].title in html
    assert ">behind</span>" in member_rows(html)["Mia"], "the first meeting's modules count in full, and the next one has begun"


def test_the_group_page_shows_time_this_week_last_active_and_messages(groups, demo):
    facilitator = groups.facilitator("fran@example.org", "Oak")
    member = groups.member("mia@example.org", "Oak")
    work(member, demo, "how-memory-works", "talk-through-how-memory-works", 600, complete=True)
    row = member_rows(facilitator.client.get(f"/facilitate/groups/{groups.group_ids['Oak']}").get_data(as_text=True))["Mia"]
    assert row.count("10 min") >= 2, "this week's time and the module's"
    assert '<td class="num">1</td>' in row, "one message to the tutor"
    assert "UTC</time>" in row, "last active"
    assert "in progress" in row and "not started" in row


def test_the_live_refresh_gets_only_the_table(groups, demo):
    facilitator = groups.facilitator("fran@example.org", "Oak")
    groups.member("mia@example.org", "Oak")
    response = facilitator.client.get(f"/facilitate/groups/{groups.group_ids['Oak']}", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<table id="members">' in html and "<html" not in html
    full = facilitator.client.get(f"/facilitate/groups/{groups.group_ids['Oak']}").get_data(as_text=True)
    assert 'hx-trigger="every 30s"' in full


def test_the_csv_has_a_row_per_member_and_a_status_and_time_per_module(groups, demo):
    facilitator = groups.facilitator("fran@example.org", "Oak")
    member = groups.member("mia@example.org", "Oak")
    groups.member("noah@example.org", "Oak")
    work(member, demo, "how-memory-works", "memory-in-three-stages", 120, complete=True)
    response = facilitator.client.get(f"/facilitate/groups/{groups.group_ids['Oak']}/members.csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(r["email"] for r in rows) == ["mia@example.org", "noah@example.org"]
    mia = next(r for r in rows if r["email"] == "mia@example.org")
    title = demo.modules_by_slug["how-memory-works"].title
    assert (mia[f"{title}: status"], mia[f"{title}: time_s"], mia["time_this_week_s"], mia["required_lenses_done"]) == ("in progress", "120", "120", "1")


def test_my_groups_lists_only_mine_with_the_next_meeting(groups, demo):
    facilitator = groups.facilitator("fran@example.org", "Oak")
    groups.member("mia@example.org", "Oak")
    html = facilitator.client.get("/facilitate/").get_data(as_text=True)
    assert "Oak" in html and "Elm" not in html and "Remembering on purpose" in html
    assert f"{groups.first_meeting:%-d %b %Y, %H:%M}" in html


def test_the_member_page_shows_modules_weeks_and_chats(groups, demo):
    facilitator = groups.facilitator("fran@example.org", "Oak")
    member = groups.member("mia@example.org", "Oak")
    work(member, demo, "how-memory-works", "talk-through-how-memory-works", 300, complete=True)
    user_id = member_id(groups, "mia@example.org")
    html = facilitator.client.get(f"/facilitate/groups/{groups.group_ids['Oak']}/members/{user_id}").get_data(as_text=True)
    assert "How Memory Works" in html and "Active time per week" in html and "Tutor chats" in html
    assert "/admin/modules/" not in html, "no links a facilitator cannot follow"


def member_id(groups, email: str) -> int:
    from support.database import query_db

    return query_db(groups.app, "SELECT id FROM users WHERE email = :email", email=email)[0][0]


# --- Who may see what ------------------------------------------------------------------------------


def test_a_facilitator_sees_only_their_own_group_and_its_members(groups, demo):
    oak = groups.facilitator("fran@example.org", "Oak")
    elm = groups.facilitator("eli@example.org", "Elm")
    groups.member("mia@example.org", "Oak")
    groups.member("noah@example.org", "Elm")
    mia, noah = member_id(groups, "mia@example.org"), member_id(groups, "noah@example.org")
    oak_id, elm_id = groups.group_ids["Oak"], groups.group_ids["Elm"]
    for path in (f"/facilitate/groups/{elm_id}", f"/facilitate/groups/{elm_id}/members.csv", f"/facilitate/groups/{elm_id}/members/{noah}"):
        response = oak.client.get(path)
        assert response.status_code == 403 and "You do not facilitate this group." in response.get_data(as_text=True), path
    # Their own group's address with another group's member: no such member here.
    response = oak.client.get(f"/facilitate/groups/{oak_id}/members/{noah}")
    assert response.status_code == 404 and "noah" not in response.get_data(as_text=True)
    assert "noah@example.org" not in oak.client.get(f"/facilitate/groups/{oak_id}/members.csv").get_data(as_text=True)
    assert elm.client.get(f"/facilitate/groups/{elm_id}/members/{noah}").status_code == 200
    assert elm.client.get(f"/facilitate/groups/{oak_id}/members/{mia}").status_code == 403
    response = oak.client.get(f"/facilitate/cohorts/{groups.cohort_id}")
    assert response.status_code == 403 and "for admins" in response.get_data(as_text=True)


def test_learners_and_visitors_are_kept_out(app, groups):
    learner = groups.member("mia@example.org", "Oak")
    for path in ("/facilitate/", f"/facilitate/groups/{groups.group_ids['Oak']}"):
        response = learner.client.get(path)
        assert response.status_code == 403 and "for facilitators and admins" in response.get_data(as_text=True)
        visitor = app.test_client().get(path)
        assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]


def test_an_admin_sees_every_group_and_compares_them(app, groups, demo):
    groups.member("mia@example.org", "Oak")
    groups.member("noah@example.org", "Elm")
    create_admin(app)
    admin = OwnContextClient(app)
    admin.post("/login", data={"csrf_token": csrf_token(admin, "/login"), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    listed = admin.get("/facilitate/").get_data(as_text=True)
    assert "Oak" in listed and "Elm" in listed
    for group_id in groups.group_ids.values():
        assert admin.get(f"/facilitate/groups/{group_id}").status_code == 200
    compared = admin.get(f"/facilitate/cohorts/{groups.cohort_id}").get_data(as_text=True)
    assert compared.count('href="/facilitate/groups/') == 2


@pytest.mark.parametrize("path", ["/facilitate/groups/999999", "/facilitate/groups/0/members.csv", "/facilitate/cohorts/424242",
                                  "/facilitate/groups/99999999999", "/facilitate/groups/abc"])
def test_unknown_groups_and_cohorts_are_clear_404s_for_an_admin(app, path):
    create_admin(app)
    admin = OwnContextClient(app)
    admin.post("/login", data={"csrf_token": csrf_token(admin, "/login"), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    response = admin.get(path)
    assert response.status_code == 404


# --- Invite links, from the group page ----------------------------------------------------------------


def form(account, path: str, data: dict, page: str):
    return account.client.post(path, data={"csrf_token": csrf_token(account.client, page), **data})


def invite_ids(app, group_id: int) -> list:
    from support.database import query_db

    return [row[0] for row in query_db(app, "SELECT id FROM group_invites WHERE group_id = :g ORDER BY id", g=group_id)]


def test_a_facilitator_shares_an_invite_link_a_learner_joins_with_it_and_revoking_it_stops_it(app, groups, demo):
    oak = groups.facilitator("fran@example.org", "Oak")
    page = f"/facilitate/groups/{groups.group_ids['Oak']}"
    response = form(oak, f"{page}/invites", {"expires_in_days": "7"}, page)
    assert response.status_code == 200
    link = re.search(r'value="http://localhost(/join/[^"]+)"', response.get_data(as_text=True)).group(1)
    newcomer = groups.account("nina@example.org")
    joined = form(newcomer, link, {}, link)
    assert joined.status_code == 303
    assert "Nina" in oak.client.get(page).get_data(as_text=True)
    (invite_id,) = invite_ids(app, groups.group_ids["Oak"])
    assert form(oak, f"{page}/invites/{invite_id}/revoke", {}, page).status_code == 303
    assert groups.account("omar@example.org").client.get(link).status_code == 410


def test_a_facilitator_cannot_share_or_revoke_another_groups_links(app, groups, database_snapshot):
    oak, elm = groups.facilitator("fran@example.org", "Oak"), groups.facilitator("eli@example.org", "Elm")
    oak_page, elm_page = (f"/facilitate/groups/{groups.group_ids[name]}" for name in ("Oak", "Elm"))
    assert form(elm, f"{elm_page}/invites", {"expires_in_days": ""}, elm_page).status_code == 200
    (elm_invite,) = invite_ids(app, groups.group_ids["Elm"])
    before = database_snapshot()
    refused = form(oak, f"{elm_page}/invites", {"expires_in_days": "7"}, oak_page)
    assert refused.status_code == 403 and "You do not facilitate this group." in refused.get_data(as_text=True)
    assert form(oak, f"{elm_page}/invites/{elm_invite}/revoke", {}, oak_page).status_code == 403
    # Through their own group's address, another group's link is not found.
    response = form(oak, f"{oak_page}/invites/{elm_invite}/revoke", {}, oak_page)
    assert response.status_code == 404 and "This group has no invite link" in response.get_data(as_text=True)
    bad = form(oak, f"{oak_page}/invites", {"expires_in_days": "soon"}, oak_page)
    assert bad.status_code == 422
    assert database_snapshot() == before
