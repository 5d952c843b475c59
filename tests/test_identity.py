"""Who a request acts for: a logged-in user or an anonymous token; otherwise a clear refusal."""
import pytest


def test_no_identity_is_401(client):
    response = client.get("/api/modules/how-memory-works/progress")
    assert response.status_code == 401
    assert "anonymous token" in response.json["error"]


@pytest.mark.parametrize("token", ["not-a-uuid", "1234", "'; DROP TABLE users; --"])
def test_malformed_token_is_400(client, token):
    response = client.get("/api/modules/how-memory-works/progress", headers={"X-Anonymous-Token": token})
    assert response.status_code == 400
    assert "UUID" in response.json["error"]


def test_token_from_header_and_cookie_name_the_same_learner(client, api, make_learner):
    learner = make_learner()
    api.heartbeat(learner, "how-memory-works", "memory-in-three-stages", 30)
    by_header = client.get("/api/modules/how-memory-works/progress", headers=learner.headers).json
    client.set_cookie("tracker_anon", learner.token)
    by_cookie = client.get("/api/modules/how-memory-works/progress").json
    assert by_header == by_cookie
    assert by_header["time_spent_s"] == 30


def test_a_token_in_the_url_names_nobody(client, api, make_learner):
    """Access logs keep URLs: a token there would hand out the learner's progress to whoever reads them."""
    learner = make_learner()
    api.heartbeat(learner, "how-memory-works", "memory-in-three-stages", 30)
    response = client.get(f"/api/modules/how-memory-works/progress?anonymous_token={learner.token}")
    assert response.status_code == 401
    assert "anonymous token" in response.json["error"]
