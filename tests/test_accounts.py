"""Accounts: progress made anonymously moves into the account, once, and forms are protected."""
import csv
import io

import pytest

from support.database import ledger_days

MODULE = "how-memory-works"
LENS = "memory-in-three-stages"
EMAIL = "ada@example.org"


def anonymous_learner(browser_like, make_learner):
    return make_learner(browser_like.anonymous_token())


def test_signing_up_moves_anonymous_progress_into_the_account(browser_like, api, make_learner, progress_rows, account_rows):
    learner = anonymous_learner(browser_like, make_learner)
    api.heartbeat(learner, MODULE, LENS, 60)
    api.complete(learner, LENS, MODULE)
    before = progress_rows(learner)

    response = browser_like.signup()
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    assert "tracker_anon=;" in response.headers["Set-Cookie"], "the anonymous cookie is cleared"
    assert progress_rows(learner) == {}
    after = account_rows(EMAIL)
    assert set(after) == set(before)
    for content_id, row in before.items():
        assert after[content_id]["total_time_spent_s"] == row["total_time_spent_s"] == 60
        assert after[content_id]["time_to_complete_s"] == row["time_to_complete_s"]
    assert "How Memory Works" in browser_like.client.get("/me").get_data(as_text=True)


def heartbeat_from_page(client, demo, seconds: int):
    """A heartbeat as the lens page sends it: identified by the browser's cookies."""
    module = demo.modules_by_slug[MODULE]
    body = {
        "content_id": str(demo.lenses_by_name[LENS].id),
        "lo_id": str(module.outcomes[0].id),
        "module_id": str(module.id),
        "time_delta_s": seconds,
    }
    assert client.post("/api/progress/time", json=body, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 204


def test_a_heartbeat_that_lands_under_the_token_after_sign_up_reaches_the_account_with_the_next_page(
    client, browser_like, api, new_api, demo, make_learner, progress_rows, account_rows
):
    """Another tab's heartbeat, in flight during the sign-up, arrives under the old token."""
    learner = anonymous_learner(browser_like, make_learner)
    api.heartbeat(learner, MODULE, LENS, 30)
    browser_like.signup()
    late = new_api().heartbeat(learner, MODULE, LENS, 20)  # sent before the session cookie existed
    assert late.status_code == 204 and len(progress_rows(learner)) == 3

    assert client.get("/me").status_code == 200
    assert progress_rows(learner) == {}
    lens_id = str(demo.lenses_by_name[LENS].id)
    assert account_rows(EMAIL)[lens_id]["total_time_spent_s"] == 50
    client.get("/me")  # nothing left to move: nothing doubles
    assert account_rows(EMAIL)[lens_id]["total_time_spent_s"] == 50


def test_logging_in_merges_rows_adding_times_and_keeping_the_only_completion(
    client, browser_like, api, demo, make_learner, account_rows
):
    browser_like.signup()
    heartbeat_from_page(client, demo, 40)
    browser_like.logout()
    learner = anonymous_learner(browser_like, make_learner)
    api.heartbeat(learner, MODULE, LENS, 20)
    api.complete(learner, LENS, MODULE)  # completed anonymously, after 20 s

    browser_like.login()
    lens_id = str(demo.lenses_by_name[LENS].id)
    rows = account_rows(EMAIL)
    assert rows[lens_id]["total_time_spent_s"] == 60
    assert rows[lens_id]["time_to_complete_s"] == 20, "the only completion, made anonymously, is kept"
    assert rows[str(demo.modules_by_slug[MODULE].id)]["total_time_spent_s"] == 60

    browser_like.login()  # claiming again finds nothing to move: nothing doubles
    assert account_rows(EMAIL)[lens_id]["total_time_spent_s"] == 60


def test_logging_in_completes_an_outcome_and_module_finished_only_by_both_halves_together(
    browser_like, api, demo, make_learner, account_rows
):
    """The account completed all but one required lens of the module; the browser, anonymously, the last."""
    module = demo.modules_by_slug[MODULE]
    required = [s.lens.name for s in module.sections if not s.optional]
    browser_like.signup()
    browser_like.post_form(f"/modules/{MODULE}/talk-through-how-memory-works/chat", {"message": "Why?"})
    for name in required[1:]:
        browser_like.post_form(f"/modules/{MODULE}/{name}/complete")
    assert account_rows(EMAIL)[str(module.id)]["completed_at"] is None
    browser_like.logout()
    learner = anonymous_learner(browser_like, make_learner)
    assert api.complete(learner, required[0], MODULE).status_code == 200

    browser_like.login()
    rows = account_rows(EMAIL)
    assert rows[str(module.outcomes[0].id)]["completed_at"] is not None
    assert rows[str(module.id)]["completed_at"] is not None


def test_earlier_account_completion_wins_over_a_later_anonymous_one(browser_like, api, demo, make_learner, account_rows):
    browser_like.signup()
    browser_like.post_form(f"/modules/{MODULE}/{LENS}/complete")
    first = account_rows(EMAIL)[str(demo.lenses_by_name[LENS].id)]
    browser_like.logout()
    learner = anonymous_learner(browser_like, make_learner)
    api.heartbeat(learner, MODULE, LENS, 30)
    api.complete(learner, LENS, MODULE)
    browser_like.login()
    merged = account_rows(EMAIL)[str(demo.lenses_by_name[LENS].id)]
    assert (merged["completed_at"], merged["time_to_complete_s"]) == (first["completed_at"], 0)
    assert merged["total_time_spent_s"] == 30


def test_failed_login_never_reveals_whether_the_email_exists(browser_like):
    browser_like.signup()
    browser_like.logout()
    wrong_password = browser_like.login(password="not the password")
    unknown_email = browser_like.login(email="nobody@example.org")
    assert wrong_password.status_code == unknown_email.status_code == 422
    message = "That email and password do not match an account."
    assert message in wrong_password.get_data(as_text=True) and message in unknown_email.get_data(as_text=True)


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"email": "not-an-email", "password": "long enough pw"}, "Invalid email address."),
        ({"email": "b@example.org", "password": "short"}, "Field must be between 8 and 256 characters long."),
        ({"email": "", "password": "long enough pw"}, "This field is required."),
    ],
)
def test_signup_form_errors_are_clear(browser_like, data, problem):
    response = browser_like.post_form("/signup", data, form_page="/signup")
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)


def test_email_is_unique_regardless_of_case(browser_like):
    browser_like.signup(email="Ada@Example.org")
    browser_like.logout()
    response = browser_like.signup(email="ada@example.ORG")
    assert response.status_code == 422
    assert "An account with this email already exists" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "next_url, expected",
    [
        ("/modules/how-memory-works", "/modules/how-memory-works"),
        ("https://evil.example/steal", "/me"),
        ("//evil.example/steal", "/me"),
        ("/\\evil.example", "/me"),
        ("javascript:alert(1)", "/me"),
    ],
)
def test_login_next_only_goes_to_local_paths(browser_like, next_url, expected):
    browser_like.signup()
    browser_like.logout()
    response = browser_like.login(next=next_url)
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_forms_without_a_csrf_token_are_refused_and_write_nothing(client, database_snapshot):
    client.get("/")
    before = database_snapshot()
    response = client.post(f"/modules/{MODULE}/{LENS}/complete", data={})
    assert response.status_code == 400
    assert "CSRF token is missing" in response.get_data(as_text=True)
    assert client.post("/signup", data={"email": EMAIL, "password": "correct horse battery"}).status_code == 400
    assert database_snapshot() == before


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "https://evil.example"}],
)
def test_api_refuses_cross_site_requests_riding_on_the_cookie(client, demo, headers, database_snapshot):
    client.get("/")
    lens = demo.lenses_by_name[LENS]
    before = database_snapshot()
    response = client.post("/api/progress/time", json={"content_id": str(lens.id), "time_delta_s": 30}, headers=headers)
    assert response.status_code == 403
    assert "cross-site" in response.json["error"]
    assert database_snapshot() == before


def test_a_token_header_does_not_let_a_cross_site_request_ride_on_a_login(browser_like, demo, database_snapshot):
    """The session decides who a logged-in learner is, so the header cannot vouch for the request."""
    browser_like.signup()
    body = {"content_id": str(demo.lenses_by_name[LENS].id), "time_delta_s": 30}
    before = database_snapshot()
    headers = {"Sec-Fetch-Site": "cross-site", "X-Anonymous-Token": "00000000-0000-4000-8000-000000000000"}
    response = browser_like.client.post("/api/progress/time", json=body, headers=headers)
    assert response.status_code == 403 and "cross-site" in response.json["error"]
    assert database_snapshot() == before


def test_api_accepts_same_origin_cookie_requests_and_header_tokens(client, demo, make_learner):
    client.get("/")
    body = {"content_id": str(demo.lenses_by_name[LENS].id), "time_delta_s": 30}
    assert client.post("/api/progress/time", json=body, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 204
    assert client.post("/api/progress/time", json=body, headers={"Origin": "http://localhost"}).status_code == 204
    api_client = {"Sec-Fetch-Site": "cross-site", **make_learner().headers}
    assert client.post("/api/progress/time", json=body, headers=api_client).status_code == 204


def test_download_my_data_as_json_and_csv_matches_the_database(client, api, make_learner, progress_rows):
    client.get("/")
    learner = make_learner(client.get_cookie("tracker_anon").value)
    api.heartbeat(learner, MODULE, LENS, 45)
    api.complete(learner, LENS, MODULE)
    rows = progress_rows(learner)

    exported = client.get("/me/export.json")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="my-progress.json"'
    by_id = {item["content_id"]: item for item in exported.json["progress"]}
    assert set(by_id) == set(rows)
    for content_id, row in rows.items():
        assert by_id[content_id]["total_time_spent_s"] == row["total_time_spent_s"]
        assert by_id[content_id]["time_to_complete_s"] == row["time_to_complete_s"]
        assert by_id[content_id]["content_type"] == row["content_type"]
    assert [item["content_type"] for item in exported.json["progress"]] == ["module", "lo", "lens"]

    # One table of every record, its kind first (tests/test_my_data_download.py); here the progress rows.
    table = list(csv.DictReader(io.StringIO(client.get("/me/export.csv").get_data(as_text=True).removeprefix("\ufeff"))))
    assert {r["content_id"]: int(r["total_time_spent_s"]) for r in table if r["record"] == "progress"} == {
        k: v["total_time_spent_s"] for k, v in rows.items()
    }


def test_delete_my_data_asks_first_then_removes_only_this_learners_progress(client, browser_like, api, make_learner, progress_rows):
    other = make_learner()
    api.heartbeat(other, MODULE, LENS, 30)
    learner = anonymous_learner(browser_like, make_learner)
    api.heartbeat(learner, MODULE, LENS, 30)
    confirm = client.get("/me/delete")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.get_data(as_text=True)
    assert progress_rows(learner), "asking does not delete"
    days = len(ledger_days(client.application, token=learner.token))  # one, or two across a UTC midnight
    response = browser_like.post_form("/me/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    assert progress_rows(learner) == {}
    assert len(progress_rows(other)) == 3
    assert f"Deleted your progress ({3 + days} records)." in client.get("/me").get_data(as_text=True)


def test_a_chunk_sent_again_after_logging_in_is_credited_once(client, browser_like, api, demo, make_learner, account_rows):
    """The page sent a chunk as the anonymous learner, lost the answer, logged in, and sent it again."""
    browser_like.signup()
    heartbeat_from_page(client, demo, 40)
    browser_like.logout()
    learner = anonymous_learner(browser_like, make_learner)
    module = demo.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LENS)
    chunk = {"content_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id),
             "time_delta_s": 20, "chunk_id": 8080}
    assert client.post("/api/progress/time", json=chunk, headers=learner.headers).headers["X-Credited-Seconds"] == "20"

    browser_like.login()
    again = client.post("/api/progress/time", json={**chunk, "backlog_age_s": 30}, headers={"Sec-Fetch-Site": "same-origin"})
    assert again.status_code == 204 and again.headers["X-Credited-Seconds"] == "0"
    rows = account_rows(EMAIL)
    assert [rows[key]["total_time_spent_s"] for key in (str(section.lens.id), str(section.outcome.id), str(module.id))] == [60] * 3
