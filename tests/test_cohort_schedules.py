"""When each group meets, and what is due by each meeting: a cohort's own dates, its weekly rule on
local clocks (across a change of the clocks), or a group's own weekly slot; and meetings in the
course file. Cohorts and groups are made through the admin pages; their schedules are read back
through the service the facilitator pages use."""
from datetime import datetime, timezone
from html import unescape

import pytest

from support.cohorts import COHORTS, make_cohort, make_group, post_form
from support.content import COURSE, rewrite
from tracker import cohorts
from tracker.content import ContentError
from tracker.content.loader import load_content


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def schedule(app, demo, group_id: int) -> list:
    return cohorts.group_schedule(app.extensions["tracker.db"], demo, group_id)


def test_a_module_is_due_by_the_first_meeting_after_it(app, admin, demo):
    group = make_group(app, admin, make_cohort(admin), "Group A")
    refs = demo.courses_by_slug["study-skills"].module_refs
    meetings = schedule(app, demo, group)
    assert [(m.number, m.name) for m in meetings] == [(1, "Remembering on purpose"), (2, "A study plan that lasts")]
    assert [m.modules_due for m in meetings] == [refs[:2], refs[2:]]


def test_a_cohorts_own_dates_are_its_meetings_in_its_time_zone(app, admin, demo):
    cohort_id = make_cohort(admin, "Dated", starts_on="2027-02-01", time_zone="Europe/Berlin", weekday="", local_time="",
                            meeting_dates="2027-02-03 19:30\n\n2027-02-17 10:00\n")
    group = make_group(app, admin, cohort_id, "Group A")
    meetings = schedule(app, demo, group)
    assert [m.starts_at for m in meetings] == [utc(2027, 2, 3, 18, 30), utc(2027, 2, 17, 9, 0)]
    assert {m.time_zone for m in meetings} == {"Europe/Berlin"}
    page = unescape(admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True))
    assert "Wed 3 Feb 2027, 19:30 (Europe/Berlin)" in page and "Wed 17 Feb 2027, 10:00 (Europe/Berlin)" in page


def test_a_weekly_rule_keeps_the_local_time_when_the_clocks_change(app, admin, demo):
    # The UK moves to summer time on Sunday 28 March 2027: 18:00 is 18:00 UTC before, 17:00 UTC after.
    cohort_id = make_cohort(admin, "Spring", starts_on="2027-03-22", time_zone="Europe/London", weekday="0", local_time="18:00")
    meetings = schedule(app, demo, make_group(app, admin, cohort_id, "Group A"))
    assert [m.starts_at for m in meetings] == [utc(2027, 3, 22, 18, 0), utc(2027, 3, 29, 17, 0)]
    page = unescape(admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True))
    assert "Mon 22 Mar 2027, 18:00 (Europe/London)" in page and "Mon 29 Mar 2027, 18:00 (Europe/London)" in page


def test_a_weekly_rule_starts_on_the_first_matching_day_on_or_after_the_start_date(app, admin, demo):
    wednesday = make_cohort(admin, "From a Wednesday", starts_on="2027-01-06", weekday="2", local_time="07:15")
    friday = make_cohort(admin, "Friday meetings", starts_on="2027-01-06", weekday="4", local_time="07:15")
    assert [m.starts_at for m in schedule(app, demo, make_group(app, admin, wednesday, "G"))] == [
        utc(2027, 1, 6, 7, 15), utc(2027, 1, 13, 7, 15)]
    assert [m.starts_at for m in schedule(app, demo, make_group(app, admin, friday, "G"))] == [
        utc(2027, 1, 8, 7, 15), utc(2027, 1, 15, 7, 15)]


def test_a_group_with_its_own_slot_meets_then_and_the_others_keep_the_cohorts_rule(app, admin, demo):
    # The United States move to summer time on Sunday 14 March 2027.
    cohort_id = make_cohort(admin, "Spring", starts_on="2027-03-08", time_zone="Europe/London", weekday="0", local_time="18:00")
    mornings = make_group(app, admin, cohort_id, "New York mornings", weekday="3", local_time="09:00", time_zone="America/New_York")
    evenings = make_group(app, admin, cohort_id, "London evenings")
    own = schedule(app, demo, mornings)
    assert [m.starts_at for m in own] == [utc(2027, 3, 11, 14, 0), utc(2027, 3, 18, 13, 0)]
    assert {m.time_zone for m in own} == {"America/New_York"}
    assert [m.starts_at for m in schedule(app, demo, evenings)] == [utc(2027, 3, 8, 18, 0), utc(2027, 3, 15, 18, 0)]
    assert [m.modules_due for m in own] == [m.modules_due for m in schedule(app, demo, evenings)]
    page = unescape(admin.get(f"{COHORTS}/{cohort_id}").get_data(as_text=True))
    assert "Meets on its own slot: Thursdays at 09:00 (America/New_York)." in page
    assert "Thu 18 Mar 2027, 09:00 (America/New_York)" in page


def test_a_group_takes_the_cohorts_time_zone_when_its_slot_names_none(app, admin, demo):
    cohort_id = make_cohort(admin, "Spring", starts_on="2027-03-08", time_zone="Asia/Tokyo")
    group = make_group(app, admin, cohort_id, "Late", weekday="4", local_time="21:00")
    assert [m.starts_at for m in schedule(app, demo, group)] == [utc(2027, 3, 12, 12, 0), utc(2027, 3, 19, 12, 0)]


def test_in_a_cohort_with_its_own_dates_a_group_cannot_have_a_slot(app, admin, database_snapshot):
    cohort_id = make_cohort(admin, "Dated", weekday="", local_time="", meeting_dates="2027-01-05 18:00\n2027-01-12 18:00")
    before = database_snapshot()
    response = post_form(admin, f"{COHORTS}/{cohort_id}/groups", {"name": "G", "weekday": "1", "local_time": "10:00"})
    assert response.status_code == 422 and "cannot have a weekly slot" in response.get_data(as_text=True)
    assert database_snapshot() == before


def test_the_course_page_groups_modules_by_the_meeting_they_prepare_for(client, demo):
    page = unescape(client.get("/courses/study-skills").get_data(as_text=True))
    assert "Before meeting 1: Remembering on purpose" in page and "Before meeting 2: A study plan that lasts" in page


# --- Meetings in tracker's course files -----------------------------------------------------------


def with_course_modules(directory, modules) -> None:
    rewrite(directory / COURSE, lambda data: data.__setitem__("modules", modules))


def test_a_meeting_before_any_module_has_nothing_due_and_modules_after_the_last_meeting_are_due_by_none(editable_content):
    with_course_modules(editable_content, [
        {"meeting": "Kick-off"}, "how-memory-works", {"meeting": "Week 1"}, "retrieval-practice", "spacing-and-interleaving",
    ])
    course = load_content(editable_content).courses[0]
    assert [(m.number, m.name, m.after_modules) for m in course.meetings] == [(1, "Kick-off", 0), (2, "Week 1", 1)]
    due = cohorts.modules_due_by_meeting(course)
    assert due[1] == () and [ref.module.slug for ref in due[2]] == ["how-memory-works"]


@pytest.mark.parametrize("modules, field, problem", [
    ([{"meeting": ""}, "how-memory-works"], "modules[0].meeting", "is required"),
    ([{"meeting": 3}, "how-memory-works"], "modules[0].meeting", "must be text"),
    (["how-memory-works", {"meeting": "Week 1", "when": "monday"}], "modules[1].when", "is not a known field"),
    ([{"meeting": "Week 1"}], "modules", "lists meetings but no module"),
])
def test_a_malformed_meeting_in_a_course_file_is_refused_naming_the_field(editable_content, modules, field, problem):
    with_course_modules(editable_content, modules)
    with pytest.raises(ContentError) as refused:
        load_content(editable_content)
    assert refused.value.field == field and problem in refused.value.problem
