"""An admin deletes a learner's account on their request: from the learner's admin page, confirmed by typing the
learner's email; it goes as when the learner deletes it, and the log says which admin did it. Anyone else is refused."""
import logging

import pytest

from support.account_data import (  # noqa: F401  (admin_browser, anna and boris are fixtures)
    ANNA, BORIS, admin_browser, anna, boris, logged_in_as, read, rows_of_account,
)
from support.admin import ADMIN_EMAIL, OwnContextClient
from support.cohorts import quick_password_hashes  # noqa: F401  (autouse: sign-ups here need no real scrypt)
from support.csrf import csrf_token
from support.database import query_db


def delete_on_request(client, user_id: int, typed_email: str):
    page = f"/admin/learners/{user_id}/delete"
    return client.post(page, data={"csrf_token": csrf_token(client, "/me/delete"), "email": typed_email})


def admin_id(app) -> int:
    return query_db(app, "SELECT id FROM users WHERE email = :email", email=ADMIN_EMAIL)[0][0]


def test_an_admin_deletes_a_learners_account_on_request_and_the_log_names_the_admin(app, admin_browser, anna, boris, caplog):
    learner_page = admin_browser.get(f"/admin/learners/{anna.user_id}").get_data(as_text=True)
    assert f"/admin/learners/{anna.user_id}/delete" in learner_page
    confirmation = admin_browser.get(f"/admin/learners/{anna.user_id}/delete").get_data(as_text=True)
    assert f"type the learner's email, <strong>{ANNA}</strong>" in confirmation
    assert all(statement_id in confirmation for statement_id in anna.sent)
    mine, others = read(app, rows_of_account, anna.user_id), read(app, rows_of_account, boris.user_id)
    caplog.set_level(logging.INFO, logger="tracker.account_deletion")

    response = delete_on_request(admin_browser, anna.user_id, f"  {ANNA.upper()} ")  # typed as it is read: case-blind
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Account deleted" in page and "progress records: 3" in page
    assert all(statement_id in page for statement_id in anna.sent), "what the LRS holds, for the admin to pass on"
    assert read(app, rows_of_account, anna.user_id, mine) == {}
    assert read(app, rows_of_account, boris.user_id) == others
    assert logged_in_as(anna.client) is None, "the learner's own browser is logged out"
    assert logged_in_as(admin_browser) == ADMIN_EMAIL, "the admin stays logged in"
    [line] = [record for record in caplog.records if record.name == "tracker.account_deletion"]
    assert line.getMessage() == f"account {anna.user_id} deleted on request by admin {admin_id(app)} ({ADMIN_EMAIL})"
    assert (line.deleted_user_id, line.admin_user_id) == (anna.user_id, admin_id(app))
    assert ANNA not in line.getMessage(), "the log outlives the account: it keeps no email of it"


@pytest.mark.parametrize(
    "typed, status, says",
    [
        (BORIS, 422, "That is not this account&#39;s email, so nothing was deleted."),
        ("", 422, "This field is required."),
    ],
)
def test_a_wrong_email_is_refused_and_deletes_nothing(app, admin_browser, anna, boris, typed, status, says):
    before = read(app, rows_of_account, anna.user_id)
    response = delete_on_request(admin_browser, anna.user_id, typed)
    assert response.status_code == status and says in response.get_data(as_text=True)
    assert read(app, rows_of_account, anna.user_id) == before
    assert logged_in_as(anna.client) == ANNA


def test_an_admin_cannot_delete_their_own_account_here(app, admin_browser):
    own = admin_id(app)
    page = admin_browser.get(f"/admin/learners/{own}/delete").get_data(as_text=True)
    assert "This is your own account" in page and 'name="email"' not in page
    response = delete_on_request(admin_browser, own, ADMIN_EMAIL)
    assert response.status_code == 403 and "This is your own account: delete it with" in response.get_data(as_text=True)
    assert logged_in_as(admin_browser) == ADMIN_EMAIL


def test_learners_facilitators_and_visitors_cannot_delete_an_account(app, anna, boris):
    """Boris is a learner and a facilitator; neither lets him delete Anna."""
    before = read(app, rows_of_account, anna.user_id)
    assert boris.client.get(f"/admin/learners/{anna.user_id}/delete").status_code == 403
    refused = delete_on_request(boris.client, anna.user_id, ANNA)
    assert refused.status_code == 403 and "This page is for admins only." in refused.get_data(as_text=True)
    sent_to_log_in = delete_on_request(OwnContextClient(app), anna.user_id, ANNA)
    assert sent_to_log_in.status_code == 302 and sent_to_log_in.headers["Location"].startswith("/login")
    assert read(app, rows_of_account, anna.user_id) == before


def test_an_account_that_is_not_there_is_404(admin_browser):
    for response in (admin_browser.get("/admin/learners/987654/delete"), delete_on_request(admin_browser, 987654, ANNA)):
        assert response.status_code == 404 and "There is no such account" in response.get_data(as_text=True)
