"""Completions survive content changes, and the propagation check follows the content being served."""
import uuid

import frontmatter
import pytest

MODULE = "how-memory-works"
LO1_LENSES = ["memory-in-three-stages", "working-memory-limits", "focused-and-diffuse-thinking"]


@pytest.fixture
def content_dir(editable_content):
    return editable_content


def edit_module(content_dir, slug: str, change) -> None:
    path = content_dir / "modules" / f"{slug}.md"
    post = frontmatter.loads(path.read_text())
    change(post.metadata)
    path.write_text(frontmatter.dumps(post))


def add_lens(content_dir, name: str) -> None:
    (content_dir / "lenses" / f"{name}.md").write_text(
        f"---\nid: {uuid.uuid4()}\ntitle: A new lens\ntype: article\n---\nNew text.\n"
    )


def reload(app) -> None:
    assert app.extensions["tracker.content"].reload_if_changed()


def test_completed_outcome_is_not_overwritten_after_module_gains_a_lens(app, content_dir, api, demo, make_learner, progress_rows):
    learner = make_learner()
    api.heartbeat(learner, MODULE, LO1_LENSES[0], 60)
    for name in LO1_LENSES:
        api.complete(learner, name, MODULE)
    lo1_id = str(demo.modules_by_slug[MODULE].outcomes[0].id)
    before = progress_rows(learner)[lo1_id]
    assert before["completed_at"] is not None

    add_lens(content_dir, "a-new-lens")
    edit_module(content_dir, MODULE, lambda meta: meta["outcomes"][0]["lenses"].append("a-new-lens"))
    reload(app)
    api.index = app.extensions["tracker.content"].index
    api.heartbeat(learner, MODULE, "a-new-lens", 30)
    state = api.state(learner, MODULE)

    after = progress_rows(learner)[lo1_id]
    assert (after["completed_at"], after["time_to_complete_s"]) == (before["completed_at"], 60)
    assert after["total_time_spent_s"] == 90
    assert state["learning_outcomes"][0]["completed"] is True
    assert state["progress"] == {"completed": 3, "total": 7}


def test_completing_an_optional_lens_still_runs_the_check(app, content_dir, api, demo, make_learner, progress_rows):
    learner = make_learner()
    for name in LO1_LENSES[:2]:
        api.complete(learner, name, MODULE)
    lo1_id = str(demo.modules_by_slug[MODULE].outcomes[0].id)
    assert progress_rows(learner)[lo1_id]["completed_at"] is None

    def make_third_lens_optional(meta):
        meta["outcomes"][0]["lenses"][2] = {"lens": LO1_LENSES[2], "optional": True}

    edit_module(content_dir, MODULE, make_third_lens_optional)
    reload(app)
    api.index = app.extensions["tracker.content"].index
    response = api.complete(learner, LO1_LENSES[2], MODULE)
    assert response.status_code == 200
    assert progress_rows(learner)[lo1_id]["completed_at"] is not None

