"""Learner pages, rendered on the server: what a learner sees, and what it does to their progress."""
import re

import pytest

from support.csrf import csrf_token

MODULE = "how-memory-works"
LO1_LENSES = ["memory-in-three-stages", "working-memory-limits", "focused-and-diffuse-thinking"]
OTHER_REQUIRED = ["the-forgetting-curve", "illusions-of-competence", "talk-through-how-memory-works"]


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def complete_with_htmx(client, lens_name: str):
    token = csrf_token(client)
    return client.post(
        f"/modules/{MODULE}/{lens_name}/complete",
        data={"csrf_token": token},
        headers={"HX-Request": "true", "HX-Target": "completion"},
    )


def chat_with_htmx(client, lens_name: str, message: str = "Why do we forget?"):
    token = csrf_token(client)
    return client.post(
        f"/modules/{MODULE}/{lens_name}/chat",
        data={"csrf_token": token, "message": message},
        headers={"HX-Request": "true", "HX-Target": "chat-log"},
    )


def test_first_visit_gets_an_anonymous_token_cookie(client):
    response = client.get("/")
    cookie = response.headers["Set-Cookie"]
    assert re.search(r"tracker_anon=[0-9a-f-]{36}", cookie)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_home_shows_courses_with_the_learners_progress(client, demo):
    html = page(client, "/")
    assert demo.courses[0].title in html
    assert "0 of 3 modules completed" in html


def test_course_page_lists_modules_in_order_with_status_and_estimates(client, demo):
    client.get("/")
    complete_with_htmx(client, LO1_LENSES[0])
    html = page(client, "/courses/study-skills")
    titles = [ref.module.title for ref in demo.courses[0].module_refs]
    assert [html.index(t) for t in titles] == sorted(html.index(t) for t in titles)
    assert "In progress" in html and "Not started" in html
    assert "1 of 6 required lenses done" in html
    assert re.search(r"about \d+ min left", html)


def test_module_page_continues_at_the_first_incomplete_required_lens(client, demo):
    client.get("/")
    html = page(client, f"/modules/{MODULE}")
    assert demo.modules_by_slug[MODULE].outcomes[0].title in html
    assert f'href="/modules/{MODULE}/{LO1_LENSES[0]}">\n  Start' in html
    complete_with_htmx(client, LO1_LENSES[0])
    html = page(client, f"/modules/{MODULE}")
    assert f'href="/modules/{MODULE}/{LO1_LENSES[1]}">\n  Continue' in html
    assert '<progress max="6" value="1"' in html


def test_lens_page_carries_the_tracker_with_lens_lo_and_module_ids(client, demo):
    module = demo.modules_by_slug[MODULE]
    section = module.sections[0]
    html = page(client, f"/modules/{MODULE}/{section.lens.name}")
    tracker = re.search(r'<div id="tracker"(.*?)>', html, re.S).group(1)
    assert f'data-lens-id="{section.lens.id}"' in tracker
    assert f'data-lo-id="{section.outcome.id}"' in tracker
    assert f'data-module-id="{module.id}"' in tracker
    assert 'hx-trigger="tracker:beat"' in tracker and 'data-interval-s="30"' in tracker
    assert 'hx-post="/api/progress/time"' in tracker
    assert "/static/js/tracker.js" in html and "/static/vendor/htmx.min.js" in html


def test_lens_can_be_addressed_by_name_or_id(client, demo):
    lens = demo.lenses_by_name[LO1_LENSES[0]]
    assert lens.title in page(client, f"/modules/{MODULE}/{lens.id}")


def test_each_lens_type_renders_its_content(client, demo):
    article = page(client, f"/modules/{MODULE}/{LO1_LENSES[0]}")
    assert "<h2>" in article and "<strong>" in article
    video = page(client, f"/modules/{MODULE}/focused-and-diffuse-thinking")
    # enablejsapi: the player tells the page when it plays and pauses (watching counts as activity)
    assert 'src="https://www.youtube-nocookie.com/embed/O96fE1E-rf8?enablejsapi=1"' in video
    assert "Transcript" in video
    chat = page(client, f"/modules/{MODULE}/talk-through-how-memory-works")
    assert "Talk it through with the tutor" in chat


def test_mark_complete_without_javascript_redirects_back_completed(client, progress_rows, make_learner, demo):
    client.get("/")
    token = csrf_token(client, f"/modules/{MODULE}/{LO1_LENSES[0]}")
    response = client.post(f"/modules/{MODULE}/{LO1_LENSES[0]}/complete", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/modules/{MODULE}/{LO1_LENSES[0]}"
    assert "Completed on" in page(client, response.headers["Location"])
    learner = make_learner(client.get_cookie("tracker_anon").value)
    assert progress_rows(learner)[str(demo.lenses_by_name[LO1_LENSES[0]].id)]["completed_at"] is not None


def test_mark_complete_with_htmx_updates_outline_and_progress_out_of_band(client):
    client.get("/")
    response = complete_with_htmx(client, LO1_LENSES[0])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<div id="completion"')
    assert re.search(r'<nav id="outline"[^>]*hx-swap-oob="true"', html)
    assert re.search(r'<div id="module-progress"[^>]*hx-swap-oob="true"', html)
    assert '<progress max="6" value="1"' in html
    assert "1 of 6 required lenses done." in html


def test_completing_the_last_required_lens_announces_the_module(client):
    client.get("/")
    for name in LO1_LENSES + OTHER_REQUIRED[:-1]:
        complete_with_htmx(client, name)
    assert chat_with_htmx(client, OTHER_REQUIRED[-1]).status_code == 200  # the chat lens needs a message first
    html = complete_with_htmx(client, OTHER_REQUIRED[-1]).get_data(as_text=True)
    assert "Module “How Memory Works” completed." in html
    assert "status-completed" in html
    again = complete_with_htmx(client, OTHER_REQUIRED[-1])
    assert again.status_code == 200, "completing again changes nothing and still answers"


@pytest.mark.parametrize(
    "path", ["/courses/nope", "/modules/nope", f"/modules/{MODULE}/nope", f"/modules/{MODULE}/spaced-repetition-apps"]
)
def test_unknown_pages_are_404_pages_in_the_layout(client, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Back to the courses" in html and 'class="site-header"' in html


def test_me_lists_started_modules_with_times_and_completions(client, api, make_learner):
    client.get("/")
    learner = make_learner(client.get_cookie("tracker_anon").value)
    api.heartbeat(learner, MODULE, LO1_LENSES[0], 90)
    api.complete(learner, LO1_LENSES[0], MODULE)
    html = page(client, "/me")
    assert "How Memory Works" in html and "Retrieval Practice" not in html
    assert "2 min" in html  # 90 s, on the lens, the LO and the module
    assert "Download my data" in html and "Delete my data" in html
