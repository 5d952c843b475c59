"""The Content Security Policy in a real browser: every lens type works, and nothing is blocked.

Chromium reports each blocked script, style, frame or connection as a `securitypolicyviolation`
event and a console message; htmx reports an attribute it would have to eval as
`htmx:evalDisallowedError`. An init script records all three in every page of the context, and
each test drives a lens the way a learner does (reading, so heartbeats go out; Mark complete,
which htmx swaps in; a message to the tutor, whose answer streams in) and then expects none.

The server runs on http://127.0.0.1, where Chromium accepts the app's Secure cookies, so the
learner keeps one anonymous token and can sign up and stay logged in.
"""
import pytest

from support.browser import ANONYMOUS_COOKIE
from tracker.config import DEMO_CONTENT_DIR
from tracker.content import load_content

MODULE = "how-memory-works"
ARTICLE, VIDEO, CHAT = "memory-in-three-stages", "focused-and-diffuse-thinking", "talk-through-how-memory-works"
INDEX = load_content(DEMO_CONTENT_DIR)
PLAYER = "https://www.youtube-nocookie.com/"

RECORD_PROBLEMS = """
(() => {
  const report = (kind, detail) => window.reportPolicyProblem({ kind, page: location.pathname, ...detail });
  document.addEventListener("securitypolicyviolation", (e) => report("violation", {
    directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile, line: e.lineNumber,
  }), true);
  for (const type of ["htmx:evalDisallowedError", "htmx:syntax:error"]) {
    document.addEventListener(type, (e) => report(type, { element: e.target && e.target.outerHTML.slice(0, 200) }), true);
  }
})();
"""


@pytest.fixture
def policy_problems(context):
    """Every CSP violation and htmx eval refusal in the context's pages, as the browser reported them."""
    problems = []
    context.expose_function("reportPolicyProblem", lambda problem: problems.append(problem))
    context.add_init_script(RECORD_PROBLEMS)
    # No network here: answer for the video player, so its frame loads (or is blocked) like the real one.
    context.route(f"{PLAYER}**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>player</title><p>player</p>"))
    return problems


def console_reports(page) -> list:
    """Console lines about the policy, which Chromium writes for every refusal."""
    return [m for m in page.console_messages if "Content Security Policy" in m or "Content-Security-Policy" in m]


def assert_nothing_blocked(page, policy_problems):
    page.wait_for_timeout(300)  # let the last events reach Python
    assert policy_problems == []
    assert console_reports(page) == []
    assert [m for m in page.console_messages if m.startswith("pageerror")] == []


def ids(lens_name: str) -> str:
    return str(INDEX.lenses_by_name[lens_name].id)


def open_lens(page, lens_name: str):
    response = page.goto(f"/modules/{MODULE}/{lens_name}")
    assert response.status == 200
    assert "script-src 'self';" in response.headers["content-security-policy"]
    return response


def read_until_heartbeat_delivered(page, heartbeats, lens_name: str, wait_until):
    """Move the mouse like a reader until htmx has delivered a heartbeat for the lens."""
    step = 0

    def delivered():
        nonlocal step
        step += 1
        page.mouse.move(200 + 40 * (step % 5), 300 + 25 * (step % 3))
        return [h for h in heartbeats.all
                if h.delivered and h.resource_type == "xhr" and h.body.get("content_id") == ids(lens_name)]

    beats = wait_until(delivered, page=page, interval=0.25, message=f"an htmx heartbeat for {lens_name}")
    assert beats[0].seconds >= 1


def mark_complete(page):
    page.evaluate("window.samePage = true")
    button = page.get_by_role("button", name="Mark complete")
    # Chromium routes a click by the last frame it drew; with the player's cross-origin frame on
    # the page, a click right after Playwright's scroll can land in the player. Scroll, let the
    # page be drawn, then click.
    button.scroll_into_view_if_needed()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    button.click()
    page.locator("#completion .done").wait_for()
    assert page.evaluate("window.samePage === true"), "htmx swapped the completion in: no page load"


def test_an_article_lens_tracks_time_and_completes_without_a_policy_violation(
    page, policy_problems, heartbeats, time_spent, wait_until
):
    open_lens(page, ARTICLE)
    read_until_heartbeat_delivered(page, heartbeats, ARTICLE, wait_until)
    mark_complete(page)
    wait_until(lambda: time_spent().get(ids(ARTICLE), 0) >= 1, page=page, message="the reading time in the database")
    assert_nothing_blocked(page, policy_problems)


def test_a_video_lens_embeds_the_player_without_a_policy_violation(
    page, policy_problems, heartbeats, wait_until
):
    open_lens(page, VIDEO)
    player = page.frame_locator(".video iframe")
    assert player.locator("p").inner_text() == "player", "the player's frame is allowed to load"
    read_until_heartbeat_delivered(page, heartbeats, VIDEO, wait_until)
    mark_complete(page)
    assert_nothing_blocked(page, policy_problems)


def test_a_chat_lens_streams_the_answer_without_a_policy_violation(page, policy_problems, heartbeats, wait_until):
    open_lens(page, CHAT)
    page.get_by_label("Your message to the tutor").fill("What are the **three** stages of memory?")
    page.get_by_role("button", name="Send").click()
    answer = page.locator(".message-tutor:not(.pending)").last
    answer.wait_for(timeout=30_000)
    assert answer.inner_text().strip(), "the tutor answered"
    read_until_heartbeat_delivered(page, heartbeats, CHAT, wait_until)
    mark_complete(page)
    assert_nothing_blocked(page, policy_problems)


def test_secure_cookies_keep_the_learner_on_plain_http_127_0_0_1(page, context, policy_problems, server):
    assert server.startswith("http://127.0.0.1:")
    page.goto("/")
    cookie = next(c for c in context.cookies() if c["name"] == ANONYMOUS_COOKIE)
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Lax")
    page.goto(f"/modules/{MODULE}/{ARTICLE}")
    assert next(c for c in context.cookies() if c["name"] == ANONYMOUS_COOKIE)["value"] == cookie["value"], \
        "the browser sent the Secure cookie back: the same learner"

    page.goto("/signup")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password (at least 8 characters)").fill("a long enough password")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/me")
    session = next(c for c in context.cookies() if c["name"] == "session")
    assert (session["secure"], session["httpOnly"], session["sameSite"]) == (True, True, "Lax")
    page.reload()
    assert "ada@example.org" in page.locator(".site-header").inner_text(), "still logged in after a reload"
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/")
    assert "Log in" in page.locator(".site-header").inner_text()
    assert_nothing_blocked(page, policy_problems)
