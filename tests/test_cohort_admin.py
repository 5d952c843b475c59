"""Admins run cohorts from /admin/cohorts: cohorts and groups, learners added and moved by email,
facilitators, a CSV of emails and groups that imports all or nothing; every refusal is a 4xx that
names the problem and writes nothing."""
import io
import re
from datetime import timedelta
from html import unescape

import pytest

from support.admin import ADMIN_EMAIL, Account, run_cli
from support.cohorts import quick_password_hashes  # noqa: F401  (an autouse fixture)
from support.cohorts import (
    COHORTS, facilitator_role, facilitator_rows, make_cohort, make_facilitator, make_group, membership_rows, place, post_form,
)
from support.database import query_db
from tracker import cohorts
from tracker.clock import utc_now

ADA, BEA, CY = "ada@example.org", "bea@example.org", "cy@example.org"


@pytest.fixture
def cohort(app, admin):
    """A cohort with groups A and B, and three learners with accounts."""
    cohort_id = make_cohort(admin)
    ids = {name: make_group(app, admin, cohort_id, name) for name in ("Group A", "Group B")}
    for email in (ADA, BEA, CY):
        Account(app, email)
    return cohort_id, ids


def test_a_new_cohort_is_listed_and_its_page_shows_the_schedule_and_what_is_due_by_each_meeting(app, admin, demo):
    cohort_id = make_cohort(admin, "Spring 2027", starts_on="2027-01-04", weekday="1", local_time="18:00", time_zone="Europe/London")
    listing = admin.get(COHORTS).get_data(as_text=True)
    assert f'href="/admin/cohorts/{cohort_id}">Spring 2027</a>' in listing and "Tuesdays at 18:00 (Europe/London)" in listing
    page = admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True)
    course = demo.courses_by_slug["study-skills"]
    first, second = course.meetings
    assert f"1. {first.name}</th><td>Tue 5 Jan 2027, 18:00 (Europe/London)</td>" in page
    assert f"2. {second.name}</th><td>Tue 12 Jan 2027, 18:00 (Europe/London)</td>" in page
    modules = [ref.module.title for ref in course.module_refs]
    assert f"<td>{modules[0]}, {modules[1]}</td>" in page and f"<td>{modules[2]}</td>" in page


def test_adding_by_email_puts_the_learner_in_the_group_and_adding_again_to_another_group_moves_them(app, admin, cohort):
    cohort_id, groups = cohort
    response = place(admin, cohort_id, "  ADA@Example.org ", groups["Group A"])
    assert response.status_code == 303
    assert membership_rows(app) == {(ADA, "Group A")}
    assert f"{ADA} is in “Group A” now." in admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True)

    assert place(admin, cohort_id, ADA, groups["Group B"]).status_code == 303
    assert membership_rows(app) == {(ADA, "Group B")}, "moved, never in two groups of one cohort"
    assert f"{ADA} is in “Group B” now, moved from “Group A”." in admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True)

    assert place(admin, cohort_id, ADA, groups["Group B"]).status_code == 303
    assert membership_rows(app) == {(ADA, "Group B")}
    assert "was in “Group B” already" in admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True)


def test_a_learner_may_be_in_one_group_of_each_of_two_cohorts(app, admin, cohort):
    cohort_id, groups = cohort
    autumn = make_cohort(admin, "Autumn 2027", starts_on="2027-09-06")
    evening = make_group(app, admin, autumn, "Evening")
    place(admin, cohort_id, ADA, groups["Group A"])
    place(admin, autumn, ADA, evening)
    assert membership_rows(app) == {(ADA, "Group A"), (ADA, "Evening")}


def test_the_cohort_page_lists_each_groups_members_and_facilitators(app, admin, cohort):
    cohort_id, groups = cohort
    place(admin, cohort_id, ADA, groups["Group A"])
    place(admin, cohort_id, BEA, groups["Group B"])
    assert make_facilitator(admin, cohort_id, CY, groups["Group A"]).status_code == 303
    page = admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True)
    group_a = page[page.index('id="group-'):page.index("Group B</h2>")]
    assert ADA in group_a and BEA not in group_a and f"<strong>Facilitators:</strong> {CY}" in group_a
    assert facilitator_rows(app) == {(CY, "Group A")} and facilitator_role(app, CY)


def test_making_a_facilitator_twice_is_harmless(app, admin, cohort):
    cohort_id, groups = cohort
    make_facilitator(admin, cohort_id, CY, groups["Group A"])
    assert "Facilitator added." in admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True)
    assert make_facilitator(admin, cohort_id, CY, groups["Group A"]).status_code == 303
    assert facilitator_rows(app) == {(CY, "Group A")}
    assert "facilitates the group already" in admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True)


# --- CSV import ------------------------------------------------------------------------------------


def import_csv(client, cohort_id: int, text: str, as_file: bool = True):
    data = {"file": (io.BytesIO(text.encode("utf-8")), "learners.csv")} if as_file else {"text": text}
    return post_form(client, f"{COHORTS}/{cohort_id}/import", data, content_type="multipart/form-data")


def test_a_good_csv_places_every_learner_it_lists(app, admin, cohort):
    cohort_id, groups = cohort
    place(admin, cohort_id, CY, groups["Group A"])
    text = f"\ufeffEmail,Group,Note\r\n{ADA},Group A,first\r\n\r\n{BEA},group b,\r\n{CY},Group B,moves\r\n"
    response = import_csv(admin, cohort_id, text)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert membership_rows(app) == {(ADA, "Group A"), (BEA, "Group B"), (CY, "Group B")}
    assert "Imported: 2 added, 1 moved, 0 already in their group." in admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True)


def test_pasted_csv_text_imports_as_a_file_does(app, admin, cohort):
    cohort_id, _ = cohort
    assert import_csv(admin, cohort_id, f"group,email\nGroup A,{ADA}\n", as_file=False).status_code == 303
    assert membership_rows(app) == {(ADA, "Group A")}


def test_a_csv_with_bad_rows_imports_nothing_and_names_each_bad_row_and_why(app, admin, cohort, database_snapshot):
    cohort_id, groups = cohort
    place(admin, cohort_id, CY, groups["Group A"])
    before = database_snapshot()
    text = "\n".join([
        "email,group",
        f"{ADA},Group A",  # line 2: good
        "not-an-email,Group A",  # 3
        f"{BEA},Group Z",  # 4
        f"{ADA},Group B",  # 5: ada again
        "nobody@example.org,Group A",  # 6
        f"{CY},",  # 7
        f"{CY},Group B",  # 8: good on its own
    ])
    response = import_csv(admin, cohort_id, text)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported: 5 rows of the file have a problem." in page
    rows = dict((int(line), problem) for line, problem in re.findall(r'<td class="num">(\d+)</td><td>([^<]+)</td>', page))
    assert sorted(rows) == [3, 4, 5, 6, 7]
    assert "is not an email address" in rows[3]
    assert "the cohort has no group called “Group Z”" in rows[4]
    assert f"{ADA} is listed already, on line 2" in rows[5]
    assert "no account has the email nobody@example.org" in rows[6]
    assert "needs both an email and a group" in rows[7]
    assert database_snapshot() == before


@pytest.mark.parametrize("text, says", [
    ("", "must name the columns email and group"),
    ("email,name\nada@example.org,Ada", "it lacks group"),
    ("email,group\n", "lists no learners"),
    ("email,group\n\"ada@example.org,Group A\n", "cannot be read as CSV"),
])
def test_a_file_that_is_not_a_csv_of_emails_and_groups_is_refused(app, admin, cohort, database_snapshot, text, says):
    cohort_id, _ = cohort
    before = database_snapshot()
    response = import_csv(admin, cohort_id, text)
    assert response.status_code == 422 and says in unescape(response.get_data(as_text=True))
    assert database_snapshot() == before


def test_a_file_that_is_not_utf8_is_refused(app, admin, cohort, database_snapshot):
    cohort_id, _ = cohort
    before = database_snapshot()
    data = {"file": (io.BytesIO("email,group\nzoë@example.org,Group A\n".encode("latin-1")), "x.csv")}
    response = post_form(admin, f"{COHORTS}/{cohort_id}/import", data, content_type="multipart/form-data")
    assert response.status_code == 422 and "not UTF-8 text" in response.get_data(as_text=True)
    assert database_snapshot() == before


# --- Bad input on every form: a 4xx naming the problem, nothing written ------------------------------

GOOD_COHORT = {"course": "study-skills", "name": "Summer", "starts_on": "2027-06-07", "time_zone": "UTC",
               "weekday": "0", "local_time": "09:30", "meeting_dates": ""}
COHORT_FORM_PROBLEMS = [
    ({"course": "no-such-course"}, 422, "Course: pick one of the courses."),
    ({"name": "   "}, 422, "Name: give a name."),
    ({"name": "x" * 121}, 422, "the most is 120"),
    ({"name": "Spring 2027"}, 409, "already has a cohort called “Spring 2027”"),
    ({"starts_on": "7 June"}, 422, "is not a date as YYYY-MM-DD"),
    ({"time_zone": "Mars/Olympus"}, 422, "is not a time zone name"),
    ({"time_zone": "../../etc/passwd"}, 422, "is not a time zone name"),
    ({"weekday": "7"}, 422, "pick a day of the week"),
    ({"weekday": "", "local_time": "09:30"}, 422, "give both the day of the week and the time"),
    ({"local_time": "9.30am"}, 422, "is not a time as HH:MM"),
    ({"weekday": "", "local_time": ""}, 422, "has 2 meetings: give a weekly rule or their dates"),
    ({"meeting_dates": "2027-06-08 18:00\n2027-06-15 18:00"}, 422, "either a weekly rule or the meeting dates"),
    ({"weekday": "", "local_time": "", "meeting_dates": "2027-06-08 18:00"}, 422, "give one date for each"),
    ({"weekday": "", "local_time": "", "meeting_dates": "2027-06-08 18:00\nsoon"}, 422, "meeting 2: 'soon' is not a date"),
    ({"weekday": "", "local_time": "", "meeting_dates": "2027-06-15 18:00\n2027-06-08 18:00"}, 422, "is not after meeting 1"),
    ({"weekday": "", "local_time": "", "meeting_dates": "2027-06-01 18:00\n2027-06-08 18:00"}, 422, "before the cohort starts"),
]


@pytest.mark.parametrize("change, status, says", COHORT_FORM_PROBLEMS, ids=[says for _, _, says in COHORT_FORM_PROBLEMS])
def test_the_new_cohort_form_refuses_bad_input_and_writes_nothing(app, admin, cohort, database_snapshot, change, status, says):
    before = database_snapshot()
    response = post_form(admin, COHORTS, GOOD_COHORT | change)
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    assert says in unescape(response.get_data(as_text=True))
    assert database_snapshot() == before


def group_problems():
    return [
        ("groups", {"name": ""}, 422, "Group name: give a name."),
        ("groups", {"name": "Group A"}, 409, "already has a group called “Group A”"),
        ("groups", {"name": "Group C", "weekday": "2"}, 422, "give both the day of the week and the time"),
        ("groups", {"name": "Group C", "weekday": "2", "local_time": "19:00", "time_zone": "Nowhere"}, 422, "is not a time zone name"),
        ("members", {"email": "ada@", "group_id": "{a}"}, 422, "is not an email address"),
        ("members", {"email": "nobody@example.org", "group_id": "{a}"}, 422, "No account has the email nobody@example.org"),
        ("members", {"email": ADA, "group_id": "{other}"}, 404, "not one of this cohort's"),
        ("members", {"email": ADA, "group_id": "x"}, 422, "Group: pick one from the list."),
        ("members", {"email": ADA}, 422, "Group: pick one from the list."),
        ("facilitators", {"email": "nobody@example.org", "group_id": "{a}"}, 422, "No account has the email"),
        ("facilitators", {"email": CY, "group_id": "{other}"}, 404, "not one of this cohort's"),
        ("invites", {"group_id": "{a}", "expires_in_days": "0"}, 422, "give a number of days from 1 to 365"),
        ("invites", {"group_id": "{a}", "expires_in_days": "366"}, 422, "give a number of days from 1 to 365"),
        ("invites", {"group_id": "{other}", "expires_in_days": "3"}, 404, "not one of this cohort's"),
        ("invites/999/revoke", {}, 404, "The cohort has no invite 999."),
    ]


@pytest.mark.parametrize("form, data, status, says", group_problems(), ids=[f"{f}: {s}" for f, _, _, s in group_problems()])
def test_the_cohort_pages_forms_refuse_bad_input_and_write_nothing(app, admin, cohort, database_snapshot, form, data, status, says):
    cohort_id, groups = cohort
    other_cohort = make_cohort(admin, "Other")
    ids = {"a": groups["Group A"], "other": make_group(app, admin, other_cohort, "Elsewhere")}
    before = database_snapshot()
    filled = {name: value.format(**ids) for name, value in data.items()}
    response = post_form(admin, f"{COHORTS}/{cohort_id}/{form}", filled)
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    assert says in unescape(response.get_data(as_text=True))
    assert database_snapshot() == before


@pytest.mark.parametrize("path", [f"{COHORTS}/999", f"{COHORTS}/99999999999"])
def test_an_unknown_cohort_is_404(admin, path):
    assert admin.get(path).status_code == 404
    assert post_form(admin, f"{path}/groups", {"name": "G"}).status_code == 404


def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(app, admin, cohort, database_snapshot):
    cohort_id, groups = cohort
    before = database_snapshot()
    response = admin.post(f"{COHORTS}/{cohort_id}/members", data={"email": ADA, "group_id": groups["Group A"]})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert database_snapshot() == before


# --- create-facilitator ------------------------------------------------------------------------


def test_create_facilitator_creates_an_account_with_the_role_that_can_log_in(app, browser_like):
    result = run_cli(app, "create-facilitator", "Fay@Example.org", input="facilitator password\n")
    assert "created facilitator fay@example.org" in result.output
    assert facilitator_role(app, "fay@example.org")
    assert browser_like.login("fay@example.org", "facilitator password").status_code == 303
    assert browser_like.client.get("/admin/").status_code == 403, "a facilitator is not an admin"


def test_create_facilitator_gives_an_existing_account_the_role_and_keeps_its_password(app, browser_like):
    browser_like.signup("fay@example.org", "learner password")
    browser_like.logout()
    result = run_cli(app, "create-facilitator", "fay@example.org", input="")
    assert "promoted facilitator fay@example.org" in result.output and facilitator_role(app, "fay@example.org")
    assert browser_like.login("fay@example.org", "learner password").status_code == 303


@pytest.mark.parametrize("email, password, message", [
    ("fay@example.org", "short", "at least 8 characters"),
    ("not-an-email", "a long enough password", "not an email address"),
])
def test_create_facilitator_refuses_bad_input_and_creates_nothing(app, database_snapshot, email, password, message):
    before = database_snapshot()
    result = app.test_cli_runner().invoke(args=["tracker", "create-facilitator", email], input=password + "\n")
    assert result.exit_code != 0 and message in result.output
    assert database_snapshot() == before


def test_an_admin_is_not_a_facilitator_unless_made_one(app, admin):
    assert not facilitator_role(app, ADMIN_EMAIL)


# --- The demo cohort of seed-demo-load --------------------------------------------------------------


def test_seeding_makes_a_cohort_of_three_groups_of_30_each_with_a_facilitator_and_weekly_meetings(app, admin, demo):
    result = run_cli(app, "seed-demo-load", "--learners", "150", "--seed", "3")
    assert "and a cohort of 3 groups (90 learners, a facilitator each)" in result.output
    [(cohort_id, name)] = query_db(app, "SELECT id, name FROM cohorts")
    sizes = query_db(app, "SELECT g.name, COUNT(*) FROM group_memberships m JOIN cohort_groups g ON g.id = m.group_id"
                          " GROUP BY g.name ORDER BY g.name")
    assert [count for _, count in sizes] == [30, 30, 30]
    staff = query_db(app, "SELECT f.group_id, u.is_facilitator FROM group_facilitators f JOIN users u ON u.id = f.user_id")
    assert len({group for group, _ in staff}) == 3 and len(staff) == 3 and all(role for _, role in staff)

    now = utc_now()
    for (group,) in query_db(app, "SELECT id FROM cohort_groups"):
        meetings = cohorts.group_schedule(app.extensions["tracker.db"], demo, group)
        upcoming = [m for m in meetings if m.starts_at > now]
        assert upcoming and upcoming[0].starts_at - now < timedelta(days=8) and upcoming[0].modules_due
    [(group_1,)] = query_db(app, "SELECT id FROM cohort_groups WHERE name = 'Group 1'")
    first = cohorts.group_schedule(app.extensions["tracker.db"], demo, group_1)[0]
    assert first.starts_at.date() == (now + timedelta(days=4)).date(), "the first meeting is 4 days ahead"
    page = admin.get(f"{COHORTS}/{cohort_id}")
    assert page.status_code == 200 and "Meets on its own slot: Thursdays at 09:00 (America/New_York)." in page.get_data(as_text=True)
    assert name.startswith("Demo cohort ")


def test_seeding_twice_makes_a_second_demo_cohort(app):
    run_cli(app, "seed-demo-load", "--learners", "20", "--seed", "3")
    run_cli(app, "seed-demo-load", "--learners", "20", "--seed", "4")
    assert query_db(app, "SELECT COUNT(*) FROM cohorts")[0][0] == 2
