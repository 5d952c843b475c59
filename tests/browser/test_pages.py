"""Completion and accounts in a real browser: the sidebar follows at once, and sign-up keeps everything."""
import pytest

from support.browser import anonymous_token
from tracker.config import DEMO_CONTENT_DIR
from tracker.content import load_content

MODULE = "retrieval-practice"  # a module of articles and a chat; no embedded video
INDEX = load_content(DEMO_CONTENT_DIR)
EMAIL = "grace@example.org"
REQUIRED = [s for s in INDEX.modules_by_slug[MODULE].sections if not s.optional]


def complete_on_the_page(page, section) -> None:
    """Open the lens, chat first if it is a chat lens, click Mark complete, and wait for the answer."""
    page.goto(f"/modules/{MODULE}/{section.lens.name}")
    if section.lens.type == "chat":
        page.get_by_label("Your message to the tutor").fill("What are the three stages of memory?")
        page.get_by_role("button", name="Send").click()
        page.locator(".message-tutor:not(.pending)").last.wait_for(timeout=30_000)
    page.evaluate("window.samePage = true")
    page.get_by_role("button", name="Mark complete").click()
    page.locator("#completion .done").wait_for()
    assert "Completed on" in page.locator("#completion").inner_text(), section.lens.name
    assert page.evaluate("window.samePage === true"), "htmx swapped the answer in: no page load"


@pytest.mark.app_config(TRACKER_INACTIVITY_TIMEOUT_S=60)
def test_marking_the_last_required_lens_complete_updates_the_sidebar_without_a_reload(page, learner_rows, screenshot):
    module = INDEX.modules_by_slug[MODULE]
    second = module.outcomes[1]  # an outcome with three required lenses
    in_second = [s for s in REQUIRED if s.outcome.id == second.id]
    assert len(in_second) == 3
    for section in in_second:
        complete_on_the_page(page, section)
    assert "done" in page.locator("#outline .outcome").nth(1).get_attribute("class"), "the outcome ticks at once"
    assert "done" not in page.locator("#outline .outcome").first.get_attribute("class")
    assert "3 of 6 required lenses done" in page.locator("#module-progress").inner_text()

    for section in [s for s in REQUIRED if s.outcome.id != second.id]:
        complete_on_the_page(page, section)
    progress = page.locator("#module-progress")
    assert "Completed" in progress.locator(".status").inner_text()
    assert progress.locator("progress").get_attribute("value") == "6"
    assert page.locator("#outline .outcome.done").count() == 3
    assert f"Module “{module.title}” completed." in page.locator("#announcer").inner_text()
    screenshot(page, "lens-completed", note="After the last required lens: outcome ticks and module status without a reload")

    rows = learner_rows()
    assert rows[str(module.id)]["completed_at"] is not None
    assert all(rows[str(o.id)]["completed_at"] is not None for o in module.outcomes)


@pytest.mark.app_config(TRACKER_INACTIVITY_TIMEOUT_S=60)
def test_signing_up_keeps_anonymous_time_and_completions_on_the_account(
    page, context, learner_rows, account_rows, progress_rows, make_learner, wait_until, screenshot
):
    first = REQUIRED[0]
    page.goto(f"/modules/{MODULE}/{first.lens.name}")
    screenshot(page, "lens", full_page=False)
    for step in range(16):  # read for a few seconds: heartbeats every second while active
        page.mouse.move(300 + 10 * step, 400)
        page.wait_for_timeout(250)
    page.get_by_role("button", name="Mark complete").click()
    page.locator("#completion .done").wait_for()
    wait_until(lambda: learner_rows().get(str(first.lens.id), {}).get("total_time_spent_s", 0) >= 2,
               message="some reading time to be recorded", page=page)
    page.get_by_role("link", name="Next lens").or_(page.locator("a[rel=next]")).first.click()
    page.wait_for_load_state()
    before = {key: (row["total_time_spent_s"], row["time_to_complete_s"]) for key, row in learner_rows().items()}
    anonymous = make_learner(anonymous_token(context))

    page.goto("/signup")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password (at least 8 characters)").fill("a long enough password")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/me")
    assert INDEX.modules_by_slug[MODULE].title in page.locator("main").inner_text()
    screenshot(page, "me", full_page=True)

    after = {key: (row["total_time_spent_s"], row["time_to_complete_s"]) for key, row in account_rows(EMAIL).items()}
    assert after == before, "nothing lost, nothing doubled"
    assert progress_rows(anonymous) == {}, "no anonymous rows are left behind"
