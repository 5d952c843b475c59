"""A Lens vault served through the real routes: pages of segments, time and completion on the vault's ids,
groups of LOs, the chat gate, embedded images, the admins' content page and live reload."""
import re
import shutil
from pathlib import Path
from uuid import UUID

import pytest

from support.content import replace
from support.database import progress_rows_of
from support.learners import ProgressApi
from support.app import app_settings, running_app
from tracker.chat import tutor_material

VAULT = Path(__file__).parent / "vaults" / "lens-course"
SHOWCASE = "every-kind-of-segment"


@pytest.fixture
def content_dir():
    return VAULT


@pytest.fixture
def editable_vault(tmp_path):
    target = tmp_path / "vault"
    shutil.copytree(VAULT, target)
    return target


def section_of(index, module_slug: str, lens_name: str):
    return index.modules_by_slug[module_slug].section_named(lens_name)


def test_a_lens_page_shows_every_segment_in_order(client, demo):
    page = client.get(f"/modules/memory-basics/{SHOWCASE}").get_data(as_text=True)
    lens = demo.lenses_by_name[SHOWCASE]
    kinds = [segment.kind for segment in lens.segments]
    assert kinds == ["text", "article", "video", "chat", "question"]
    assert "Text, article, video, chat and question" in page, "the page says what the lens holds"
    markers = ['class="prose"', '<figure class="excerpt">', 'data-tracker-player="youtube"', 'id="chat"', 'class="question"']
    positions = [page.index(marker) for marker in markers]
    assert positions == sorted(positions), "segments render in the order the lens lists them"
    article, video = lens.segments[1], lens.segments[2]
    assert article.source.title in page and article.source.author in page and f'href="{article.source.url}"' in page
    embed = re.search(r'src="(https://www\.youtube-nocookie\.com/embed/[^"]+)"', page).group(1)
    assert f"start={int(video.start_s)}" in embed and f"end={-int(-video.end_s)}" in embed
    assert f'data-duration-s="{video.duration_s}"' in page
    assert video.transcript.split()[0] in page
    # One chat panel, where the chat segment is; no "Ask the tutor" box besides it.
    assert page.count('id="chat"') == 1 and "ask-tutor" not in page


def test_a_heartbeat_credits_the_vault_ids_of_lens_group_and_module(client, demo, make_learner):
    learner, api = make_learner(), ProgressApi(client, demo)
    section = section_of(demo, "memory-basics", "self-testing")
    assert len(section.outcome.member_ids) == 2, "self-testing serves a group of two LOs"
    assert api.heartbeat(learner, "memory-basics", "self-testing", 20).status_code == 204
    rows = {UUID(key): row for key, row in progress_rows_of(client.application, learner.token).items()}
    module = demo.modules_by_slug["memory-basics"]
    assert {content_id: row["total_time_spent_s"] for content_id, row in rows.items()} == {
        module.id: 20, section.outcome.id: 20, section.lens.id: 20,
    }


def test_the_lens_page_tells_the_tracker_the_vault_ids(client, demo):
    page = client.get("/modules/memory-basics/self-testing").get_data(as_text=True)
    section = section_of(demo, "memory-basics", "self-testing")
    assert f'data-lo-id="{section.outcome.id}"' in page
    assert f'data-module-id="{demo.modules_by_slug["memory-basics"].id}"' in page


def test_completing_a_group_completes_each_lo_in_it(client, demo, make_learner):
    learner, api = make_learner(), ProgressApi(client, demo)
    group = section_of(demo, "memory-basics", "self-testing").outcome
    for ref in group.lens_refs:
        if ref.lens.has_chat:
            assert api.chat(learner, "memory-basics", ref.lens.name).status_code == 200
        assert api.complete(learner, ref.lens.name, "memory-basics").status_code == 200
    rows = {UUID(key): row for key, row in progress_rows_of(client.application, learner.token).items()}
    for content_id in (group.id, *group.member_ids):
        assert rows[content_id]["completed_at"] is not None, content_id
    assert [rows[i]["content_title"] for i in group.member_ids] == list(group.statements)


@pytest.mark.app_config(TRACKER_CONTENT_CHECK_S=0)
def test_min_chat_messages_sets_how_many_messages_unlock_completion(database_url, editable_vault, make_learner):
    lens_file = editable_vault / "Lenses" / "The Forgetting Curve.md"
    assert "min_chat_messages: 2" in lens_file.read_text()
    replace(editable_vault / "modules" / "Memory Basics.md", "The Forgetting Curve|The forgetting curve]]\noptional:: true",
            "The Forgetting Curve|The forgetting curve]]\noptional:: false")
    with running_app(app_settings(database_url, editable_vault)) as app:
        index = app.extensions["tracker.content"].index
        section = section_of(index, "memory-basics", "the-forgetting-curve")
        assert not section.optional and section.lens.min_chat_messages == 2
        client, learner = app.test_client(), make_learner()
        api = ProgressApi(client, index)
        api.chat(learner, "memory-basics", "the-forgetting-curve")
        refused = api.complete(learner, "the-forgetting-curve", "memory-basics")
        assert refused.status_code == 409 and "2 messages" in refused.json["error"]
        page = client.get("/modules/memory-basics/the-forgetting-curve", headers=learner.headers).get_data(as_text=True)
        assert "Send the tutor at least 2 messages first." in page
        api.chat(learner, "memory-basics", "the-forgetting-curve", "And why does spacing help?")
        assert api.complete(learner, "the-forgetting-curve", "memory-basics").status_code == 200


def test_the_course_page_groups_modules_by_the_meeting_they_prepare_for(client, demo):
    page = client.get("/courses/study-skills").get_data(as_text=True)
    course = demo.courses_by_slug["study-skills"]
    first, second = course.meetings
    headings = re.findall(r'<li class="meeting-heading"><h2>([^<]+)</h2>', page)
    assert headings == [f"Before meeting 1: {first.name}", f"Before meeting 2: {second.name}", "After the last meeting"]


def test_a_hidden_lens_is_not_listed_but_an_optional_one_is(client, demo):
    page = client.get("/modules/memory-basics").get_data(as_text=True)
    hidden = [s for s in demo.modules_by_slug["memory-basics"].sections if s.hidden]
    assert hidden and all(s.optional for s in hidden)
    for section in hidden:
        assert f"/modules/memory-basics/{section.lens.name}\"" not in page
    assert "/modules/memory-basics/the-forgetting-curve\"" in page


def test_an_embedded_image_is_served_from_the_vault_and_nothing_else_is(client, demo):
    (served,) = demo.embedded_files
    with client.get(f"/media/{served}") as image:  # closed, like a file a browser has read
        assert image.status_code == 200 and image.mimetype == "image/png"
        assert image.data == (VAULT / served).read_bytes()
    for path in ("modules/Memory%20Basics.md", "../vaults/lens-course/images/recall-grid.png", "images/../images/recall-grid.png",
                 "/etc/passwd", "%2Fetc%2Fpasswd", "..%2F..%2Fconftest.py"):
        with client.get(f"/media/{path}", follow_redirects=True) as response:  # /media//etc is redirected to /media/etc
            assert response.status_code == 404, path


def test_the_content_page_shows_admins_the_vaults_warnings(admin, demo):
    page = admin.get("/admin/content").get_data(as_text=True)
    assert "a Lens vault" in page and "Errors (0)" in page
    assert re.search(r"Warnings \([1-9]", page)
    assert "Widget" in page and "Note Taking.md" in page


def test_a_course_with_an_error_is_left_out_and_the_others_are_served(database_url, editable_vault):
    replace(editable_vault / "modules" / "Reading Actively.md", "source:: [[../Lenses/Reading With Questions]]",
            "source:: [[../Lenses/Reading Without Questions]]")
    with running_app(app_settings(database_url, editable_vault)) as app:
        index = app.extensions["tracker.content"].index
        assert [c.slug for c in index.courses] == ["study-skills"]
        client = app.test_client()
        assert client.get("/courses/study-skills").status_code == 200
        assert client.get("/courses/focus-lab").status_code == 404
        status = app.extensions["tracker.content"].status()
        (error,) = status["errors"]
        assert (error.path, error.field) == ("modules/Reading Actively.md", "source")
        assert "[[../Lenses/Reading Without Questions]]" in error.message


def test_a_reload_serves_an_edit_and_keeps_the_old_content_when_a_served_course_breaks(database_url, editable_vault):
    lens_file = editable_vault / "Lenses" / "Every Kind of Segment.md"
    with running_app(app_settings(database_url, editable_vault)) as app:
        store = app.extensions["tracker.content"]
        lens_id = store.index.lenses_by_name[SHOWCASE].id
        replace(lens_file, "title: How a memory is made", "title: How a memory gets made")
        assert store.reload_if_changed()
        assert store.index.lenses_by_id[lens_id].title == "How a memory gets made"
        served = store.index
        replace(lens_file, f"id: '{lens_id}'", "id: 'not-a-uuid'")
        assert not store.reload_if_changed()
        assert store.index is served, "the old content stays"
        assert "study-skills" in store.status()["refused"]
        assert any(e.path == "Lenses/Every Kind of Segment.md" and e.field == "id" for e in store.status()["errors"])


def test_a_chat_that_hides_what_came_before_gives_the_tutor_none_of_it(demo):
    module = demo.modules_by_slug["memory-basics"]
    showcase = demo.lenses_by_name[SHOWCASE]
    assert showcase.chat.hide_previous_from_tutor
    text, excerpt, _, _, question = showcase.segments
    hidden = tutor_material(module, showcase).text
    assert text.markdown not in hidden and excerpt.markdown not in hidden
    assert question.prompt in hidden, "what comes after the chat is not hidden"
    other = demo.lenses_by_name["self-testing"]
    assert not other.chat.hide_previous_from_tutor
    assert other.segments[0].markdown in tutor_material(module, other).text
