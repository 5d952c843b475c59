"""A heartbeat credits active seconds to the lens, its LO and its module, on both databases."""
import pytest

MODULE = "how-memory-works"
LENS = "memory-in-three-stages"


def ids(demo, module_slug=MODULE, lens_name=LENS):
    module = demo.modules_by_slug[module_slug]
    section = next(s for s in module.sections if s.lens.name == lens_name)
    return str(section.lens.id), str(section.outcome.id), str(module.id)


def test_heartbeat_creates_rows_at_all_three_levels(api, demo, make_learner, progress_rows):
    learner = make_learner()
    response = api.heartbeat(learner, MODULE, LENS, 30)
    assert response.status_code == 204
    assert response.headers["X-Credited-Seconds"] == "30"
    lens_id, lo_id, module_id = ids(demo)
    rows = progress_rows(learner)
    assert {rows[i]["content_type"]: rows[i]["total_time_spent_s"] for i in (lens_id, lo_id, module_id)} == {
        "lens": 30,
        "lo": 30,
        "module": 30,
    }
    assert rows[lens_id]["content_title"] == demo.lenses_by_name[LENS].title
    assert rows[module_id]["content_title"] == demo.modules_by_slug[MODULE].title
    assert all(row["last_heartbeat_at"] is not None and row["completed_at"] is None for row in rows.values())


def test_heartbeats_accumulate_at_all_three_levels(api, demo, make_learner, progress_rows):
    learner = make_learner()
    assert api.heartbeat(learner, MODULE, LENS, 30).status_code == 204
    assert api.heartbeat(learner, MODULE, LENS, 30).status_code == 204
    assert api.heartbeat(learner, MODULE, "working-memory-limits", 20).status_code == 204
    lens_id, lo_id, module_id = ids(demo)
    rows = progress_rows(learner)
    assert rows[lens_id]["total_time_spent_s"] == 60
    assert rows[ids(demo, lens_name="working-memory-limits")[0]]["total_time_spent_s"] == 20
    assert rows[lo_id]["total_time_spent_s"] == 80
    assert rows[module_id]["total_time_spent_s"] == 80


def test_heartbeat_without_lo_and_module_credits_only_the_lens(api, demo, make_learner, progress_rows):
    learner = make_learner()
    assert api.heartbeat(learner, MODULE, LENS, 15, levels=()).status_code == 204
    assert list(progress_rows(learner)) == [ids(demo)[0]]


def test_learners_do_not_share_rows(api, make_learner, progress_rows):
    first, second = make_learner(), make_learner()
    api.heartbeat(first, MODULE, LENS, 30)
    api.heartbeat(second, MODULE, LENS, 10)
    assert sorted(r["total_time_spent_s"] for r in progress_rows(first).values()) == [30, 30, 30]
    assert sorted(r["total_time_spent_s"] for r in progress_rows(second).values()) == [10, 10, 10]


def test_shared_lens_heartbeat_credits_the_module_it_was_sent_from(api, demo, make_learner, progress_rows):
    learner = make_learner()
    assert api.heartbeat(learner, "spacing-and-interleaving", "the-forgetting-curve", 40).status_code == 204
    rows = progress_rows(learner)
    assert rows[str(demo.modules_by_slug["spacing-and-interleaving"].id)]["total_time_spent_s"] == 40
    assert str(demo.modules_by_slug[MODULE].id) not in rows


def test_module_endpoint_heartbeat_writes_all_levels(client, demo, make_learner, progress_rows):
    learner = make_learner()
    lens_id, lo_id, module_id = ids(demo)
    response = client.post(
        f"/api/modules/{MODULE}/progress",
        json={"contentId": lens_id, "timeSpentS": 30, "completed": False},
        headers=learner.headers,
    )
    assert response.status_code == 200
    assert response.headers["X-Credited-Seconds"] == "30"
    assert response.json["time_spent_s"] == 30
    rows = progress_rows(learner)
    assert [rows[i]["total_time_spent_s"] for i in (lens_id, lo_id, module_id)] == [30, 30, 30]


@pytest.mark.app_config(TRACKER_BURST_S=120)
def test_two_back_to_back_heartbeats_after_a_quiet_spell_both_count(api, demo, make_learner, progress_rows):
    learner = make_learner()
    first, second = api.heartbeat(learner, MODULE, LENS, 60), api.heartbeat(learner, MODULE, LENS, 60)
    assert (first.headers["X-Credited-Seconds"], second.headers["X-Credited-Seconds"]) == ("60", "60")
    assert all(row["total_time_spent_s"] == 120 for row in progress_rows(learner).values())
