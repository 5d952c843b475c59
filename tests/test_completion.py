"""Completing a lens snapshots its time and, at once, completes its LO and module when they are done."""
from datetime import datetime

import pytest

from support.csrf import csrf_token

MODULE = "how-memory-works"
# how-memory-works: LO 1 has three required lenses, LO 2 has one required and one optional lens,
# LO 3 has two required lenses (an article and a chat).
LO1_LENSES = ["memory-in-three-stages", "working-memory-limits", "focused-and-diffuse-thinking"]
OPTIONAL_LENS = "storage-and-retrieval-strength"
OTHER_REQUIRED = ["the-forgetting-curve", "illusions-of-competence", "talk-through-how-memory-works"]


def lens_state(state: dict, demo, lens_name: str) -> dict:
    lens_id = str(demo.lenses_by_name[lens_name].id)
    return next(lens for lens in state["lenses"] if lens["id"] == lens_id)


def test_completion_snapshots_accumulated_time_and_ignores_client_time(client, api, demo, make_learner, progress_rows):
    learner = make_learner()
    api.heartbeat(learner, MODULE, LO1_LENSES[0], 60)
    api.heartbeat(learner, MODULE, LO1_LENSES[0], 60)
    lens_id = str(demo.lenses_by_name[LO1_LENSES[0]].id)
    response = client.post(
        "/api/progress/complete",
        json={"content_id": lens_id, "content_type": "lens", "module_slug": MODULE, "time_spent_s": 0},
        headers=learner.headers,
    )
    assert response.status_code == 200
    row = progress_rows(learner)[lens_id]
    assert row["time_to_complete_s"] == 120
    assert row["completed_at"] is not None
    assert datetime.fromisoformat(response.json["completed_at"]).tzinfo is not None


def test_completing_again_changes_nothing(api, demo, make_learner, progress_rows):
    learner = make_learner()
    api.heartbeat(learner, MODULE, LO1_LENSES[0], 30)
    first = api.complete(learner, LO1_LENSES[0], MODULE)
    before = progress_rows(learner)
    api.heartbeat(learner, MODULE, LO1_LENSES[0], 30)
    second = api.complete(learner, LO1_LENSES[0], MODULE)
    assert second.status_code == 200
    assert second.json["completed_at"] == first.json["completed_at"]
    lens_id = str(demo.lenses_by_name[LO1_LENSES[0]].id)
    after = progress_rows(learner)[lens_id]
    assert (after["completed_at"], after["time_to_complete_s"]) == (
        before[lens_id]["completed_at"],
        before[lens_id]["time_to_complete_s"],
    )
    assert after["total_time_spent_s"] == 60, "time keeps accumulating after completion"


def test_completing_a_lens_with_no_row_creates_it(api, demo, make_learner, progress_rows):
    learner = make_learner()
    assert api.complete(learner, LO1_LENSES[1], MODULE).status_code == 200
    row = progress_rows(learner)[str(demo.lenses_by_name[LO1_LENSES[1]].id)]
    assert (row["total_time_spent_s"], row["time_to_complete_s"]) == (0, 0)
    assert row["completed_at"] is not None


def test_completing_last_required_lens_completes_outcome_and_module(api, demo, make_learner, progress_rows):
    learner = make_learner()
    api.heartbeat(learner, MODULE, LO1_LENSES[0], 60)
    api.heartbeat(learner, MODULE, LO1_LENSES[0], 60)
    module = demo.modules_by_slug[MODULE]
    lo1 = module.outcomes[0]
    for name in LO1_LENSES[:-1]:
        assert api.complete(learner, name, MODULE).json["module_status"] == "in_progress"
    response = api.complete(learner, LO1_LENSES[-1], MODULE)
    lo_states = {lo["id"]: lo for lo in response.json["learning_outcomes"]}
    assert lo_states[str(lo1.id)]["completed"] is True
    assert response.json["module_status"] == "in_progress"
    api.chat(learner, MODULE, OTHER_REQUIRED[-1])  # a required chat lens needs a message first
    for name in OTHER_REQUIRED[:-1]:
        api.complete(learner, name, MODULE)
    response = api.complete(learner, OTHER_REQUIRED[-1], MODULE)
    assert response.json["module_status"] == "completed"
    assert response.json["module_progress"] == {"completed": 6, "total": 6}
    rows = progress_rows(learner)
    assert rows[str(lo1.id)]["time_to_complete_s"] == 120
    assert rows[str(module.id)]["time_to_complete_s"] == 120
    assert all(rows[str(lo.id)]["completed_at"] is not None for lo in module.outcomes)


def test_optional_lens_never_blocks_completion(api, demo, make_learner):
    learner = make_learner()
    api.chat(learner, MODULE, OTHER_REQUIRED[-1])
    for name in LO1_LENSES + OTHER_REQUIRED:
        response = api.complete(learner, name, MODULE)
    assert response.json["module_status"] == "completed"
    assert lens_state(response.json, demo, OPTIONAL_LENS)["completed"] is False


def test_shared_lens_completed_without_slug_propagates_in_every_module(api, demo, make_learner):
    learner = make_learner()
    response = api.complete(learner, "the-forgetting-curve")
    assert response.status_code == 200
    slugs = {m["module"]["slug"]: m["progress"]["completed"] for m in response.json["modules"]}
    assert slugs == {"how-memory-works": 1, "spacing-and-interleaving": 1}
    assert "module_status" not in response.json  # two modules: no single module to describe
    state = api.state(learner, "spacing-and-interleaving")
    assert lens_state(state, demo, "the-forgetting-curve")["completed"] is True


SPACING = "spacing-and-interleaving"
SPACING_REQUIRED_BUT_SHARED = ["the-spacing-effect", "planning-a-review-schedule", "interleaving-vs-blocking",
                               "a-weekly-study-routine", "study-plan-tutor"]


def test_completing_a_shared_lens_in_one_module_completes_the_other_module_it_finishes(
    api, demo, make_learner, progress_rows
):
    """One lens row serves every module that holds it, so its completion counts in all of them."""
    learner = make_learner()
    api.chat(learner, SPACING, "study-plan-tutor")
    for name in SPACING_REQUIRED_BUT_SHARED:
        assert api.complete(learner, name, SPACING).status_code == 200
    spacing = demo.modules_by_slug[SPACING]
    assert progress_rows(learner)[str(spacing.id)]["completed_at"] is None

    response = api.complete(learner, "the-forgetting-curve", MODULE)
    assert response.json["module_status"] == "in_progress"  # the answer describes the module it was asked about
    rows = progress_rows(learner)
    assert rows[str(spacing.id)]["completed_at"] is not None
    assert rows[str(spacing.outcomes[0].id)]["completed_at"] is not None
    assert api.state(learner, SPACING)["status"] == "completed"


def test_completing_a_shared_lens_starts_no_other_module(api, demo, make_learner, progress_rows):
    """A module the learner never worked in gets no row, so the dashboard does not count it as started."""
    learner = make_learner()
    assert api.complete(learner, "the-forgetting-curve", MODULE).status_code == 200
    rows = progress_rows(learner)
    assert str(demo.modules_by_slug[MODULE].id) in rows
    assert str(demo.modules_by_slug[SPACING].id) not in rows
    assert str(demo.modules_by_slug[SPACING].outcomes[0].id) not in rows


def test_module_endpoint_heartbeat_and_completion_in_one_request(client, demo, make_learner, progress_rows):
    learner = make_learner()
    lens = demo.lenses_by_name[LO1_LENSES[0]]
    response = client.post(
        f"/api/modules/{MODULE}/progress",
        json={"contentId": str(lens.id), "timeSpentS": 45, "completed": True},
        headers=learner.headers,
    )
    assert response.status_code == 200
    assert lens_state(response.json, demo, LO1_LENSES[0])["completed"] is True
    assert progress_rows(learner)[str(lens.id)]["time_to_complete_s"] == 45


def test_module_state_has_the_documented_shape(api, demo, make_learner):
    learner = make_learner()
    assert api.state(learner, MODULE)["status"] == "not_started"
    api.heartbeat(learner, MODULE, LO1_LENSES[0], 30)
    api.complete(learner, LO1_LENSES[0], MODULE)
    state = api.state(learner, MODULE)
    module = demo.modules_by_slug[MODULE]
    assert state["module"] == {"id": str(module.id), "slug": MODULE, "title": module.title}
    assert state["status"] == "in_progress"
    assert state["progress"] == {"completed": 1, "total": 6}
    assert state["time_spent_s"] == 30
    assert [lo["id"] for lo in state["learning_outcomes"]] == [str(lo.id) for lo in module.outcomes]
    assert set(state["learning_outcomes"][0]) >= {"id", "title", "completed", "completed_at", "time_spent_s"}
    assert [lens["id"] for lens in state["lenses"]] == [str(s.lens.id) for s in module.sections]
    first = state["lenses"][0]
    assert set(first) >= {
        "id", "title", "type", "optional", "learning_outcome_id", "completed", "completed_at", "time_spent_s",
    }
    assert (first["completed"], first["time_spent_s"], first["type"]) == (True, 30, "article")
    assert first["learning_outcome_id"] == str(module.outcomes[0].id)


# --- Seconds the page had not sent yet go with the completion, and count before its snapshot ----


def complete_with(client, learner, lens_name: str, demo, **fields):
    body = {"content_id": str(demo.lenses_by_name[lens_name].id), "content_type": "lens", **fields}
    return client.post("/api/progress/complete", json=body, headers=learner.headers)


def test_seconds_sent_with_a_completion_are_credited_before_the_snapshot(client, api, demo, make_learner, progress_rows):
    learner = make_learner()
    api.heartbeat(learner, MODULE, LO1_LENSES[0], 30)
    response = complete_with(client, learner, LO1_LENSES[0], demo, module_slug=MODULE, time_delta_s=12, chunk_id=77)
    assert response.status_code == 200 and response.headers["X-Credited-Seconds"] == "12"
    module = demo.modules_by_slug[MODULE]
    rows = progress_rows(learner)
    lens_row = rows[str(demo.lenses_by_name[LO1_LENSES[0]].id)]
    assert (lens_row["total_time_spent_s"], lens_row["time_to_complete_s"]) == (42, 42)
    assert rows[str(module.outcomes[0].id)]["total_time_spent_s"] == rows[str(module.id)]["total_time_spent_s"] == 42


def test_a_completion_never_takes_the_clients_figure_as_its_snapshot(client, api, demo, make_learner, progress_rows):
    """Seconds beyond the budget are not credited, so they are not in the snapshot either."""
    learner = make_learner()
    for _ in range(3):
        api.heartbeat(learner, MODULE, LO1_LENSES[0], 60)  # the burst (120 s) is used up
    response = complete_with(client, learner, LO1_LENSES[0], demo, module_slug=MODULE, time_delta_s=120)
    credited = int(response.headers["X-Credited-Seconds"])
    assert credited <= 2  # the wall-clock time since the heartbeats, no more
    row = progress_rows(learner)[str(demo.lenses_by_name[LO1_LENSES[0]].id)]
    assert row["time_to_complete_s"] == row["total_time_spent_s"] == 120 + credited


def test_a_completion_sent_again_with_its_chunk_credits_its_seconds_once(client, demo, make_learner, progress_rows):
    learner = make_learner()
    first = complete_with(client, learner, LO1_LENSES[0], demo, module_slug=MODULE, time_delta_s=9, chunk_id=5)
    again = complete_with(client, learner, LO1_LENSES[0], demo, module_slug=MODULE, time_delta_s=9, chunk_id=5)
    assert (first.headers["X-Credited-Seconds"], again.headers["X-Credited-Seconds"]) == ("9", "0")
    # The page's retry queue would send it as a heartbeat: still once.
    lens = demo.lenses_by_name[LO1_LENSES[0]]
    module = demo.modules_by_slug[MODULE]
    retry = client.post("/api/progress/time", headers=learner.headers, json={
        "content_id": str(lens.id), "lo_id": str(module.outcomes[0].id), "module_id": str(module.id),
        "time_delta_s": 9, "chunk_id": 5, "backlog_age_s": 20,
    })
    assert retry.headers["X-Credited-Seconds"] == "0"
    assert {row["total_time_spent_s"] for row in progress_rows(learner).values()} == {9}


def test_a_lens_in_one_module_takes_its_seconds_without_a_module_slug(client, demo, make_learner, progress_rows):
    learner = make_learner()
    response = complete_with(client, learner, LO1_LENSES[0], demo, time_delta_s=15)
    assert response.status_code == 200
    assert sorted(row["total_time_spent_s"] for row in progress_rows(learner).values()) == [15, 15, 15]


def test_a_refused_completion_credits_none_of_its_seconds(client, demo, make_learner, database_snapshot):
    """A required chat lens without a message is refused (409): its seconds are not kept either."""
    learner = make_learner()
    before = database_snapshot()
    response = complete_with(client, learner, OTHER_REQUIRED[-1], demo, module_slug=MODULE, time_delta_s=20, chunk_id=3)
    assert response.status_code == 409
    assert database_snapshot() == before


def test_the_mark_complete_form_credits_the_seconds_the_page_fills_in(client, demo, progress_rows, make_learner):
    """What tracker.js does: the form's hidden time_delta_s and chunk_id, posted by htmx."""
    page = f"/modules/{MODULE}/{LO1_LENSES[0]}"
    html = client.get(page).get_data(as_text=True)
    assert 'name="time_delta_s"' in html and 'name="chunk_id"' in html and "data-tracker-completion" in html
    token = client.get_cookie("tracker_anon").value
    response = client.post(
        f"{page}/complete", data={"csrf_token": csrf_token(client, page), "time_delta_s": "14", "chunk_id": "9001"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "after 14 s" in response.get_data(as_text=True)
    rows = progress_rows(make_learner(token))
    assert rows[str(demo.lenses_by_name[LO1_LENSES[0]].id)]["time_to_complete_s"] == 14


@pytest.mark.parametrize("fields, named", [
    ({"time_delta_s": "-3"}, "time_delta_s"),
    ({"time_delta_s": "9999"}, "time_delta_s"),
    ({"time_delta_s": "ten"}, "time_delta_s"),
    ({"time_delta_s": "5", "chunk_id": "0"}, "chunk_id"),
])
def test_the_mark_complete_form_refuses_bad_seconds_and_completes_nothing(client, fields, named, database_snapshot):
    page = f"/modules/{MODULE}/{LO1_LENSES[0]}"
    token = csrf_token(client, page)
    before = database_snapshot()
    response = client.post(f"{page}/complete", data={"csrf_token": token, **fields}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert named in response.get_data(as_text=True)
    assert database_snapshot() == before
