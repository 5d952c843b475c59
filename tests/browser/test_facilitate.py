"""A facilitator in Chromium: My groups, then a group against its next meeting, then one member; on a desktop and a phone."""
import pytest

from support.groups import make_groups, work

# One heartbeat sets up a member's hour of reading: the budget is not what this test is about.
pytestmark = pytest.mark.app_config(TRACKER_BURST_S=10_000_000, TRACKER_MAX_DELTA_S=100_000)


def log_in(page, email: str, password: str = "learner password 1"):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/me")


def test_a_facilitator_walks_from_my_groups_to_a_group_and_a_member(app, page, context, screenshot, browser):
    index = app.extensions["tracker.content"].index
    groups = make_groups(app)
    groups.facilitator("fran@example.org", "Oak")
    members = {name: groups.member(f"{name.lower()}@example.org", "Oak") for name in ("Ada", "Ben", "Cleo", "Dev", "Eve")}
    groups.member("zed@example.org", "Elm")
    module = index.modules_by_slug["how-memory-works"]
    lenses = [s.lens.name for s in module.sections if not s.optional]
    for name, done in (("Ada", len(lenses)), ("Ben", 3), ("Cleo", 1)):
        for lens in lenses[:done]:
            work(members[name], index, "how-memory-works", lens, 400, complete=True)
    work(members["Dev"], index, "retrieval-practice", index.modules_by_slug["retrieval-practice"].sections[0].lens.name, 5000)

    log_in(page, "fran@example.org")
    page.click("text=My groups")
    page.wait_for_selector("#my-groups")
    assert page.locator("#my-groups tbody tr").count() == 1, "Oak only: Elm is not Fran's"
    screenshot(page, "facilitate-my-groups")

    page.click("#my-groups >> text=Oak")
    page.wait_for_selector("#members")
    names = page.locator("#members tbody th a").all_inner_texts()
    assert sorted(names) == ["Ada", "Ben", "Cleo", "Dev", "Eve"] and "Zed" not in names
    flagged = page.locator("#members tbody tr.highlight th a").all_inner_texts()
    assert flagged == names[:len(flagged)], "behind first"
    assert "Eve" in flagged and "Dev" not in flagged, "Eve did nothing; Dev put in the time"
    screenshot(page, "facilitate-group", full_page=True)

    page.click("#members >> text=Ada")
    page.wait_for_selector("svg.chart")
    assert "Active time per week" in page.inner_text("main") and module.title in page.inner_text("main")
    screenshot(page, "facilitate-member", full_page=True)

    phone = browser.new_context(base_url=page.url.split("/facilitate")[0], viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        small = phone.new_page()
        log_in(small, "fran@example.org")
        small.goto(f"/facilitate/groups/{groups.group_ids['Oak']}")
        small.wait_for_selector("#members")
        # The table scrolls sideways inside its box; the page itself stays as wide as the phone.
        assert small.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(small, "facilitate-group-phone", full_page=True)
    finally:
        phone.close()
