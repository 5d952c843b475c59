"""Delete my account: the account and every row it owns go in one transaction, table by table; every browser
logged in to it is logged out, also when SQLite gives a new account its id; what an LRS already holds is
listed before and after; a wrong password, a missing CSRF token or no account at all deletes nothing."""
import pytest
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE
from flask_login.utils import encode_cookie

from support.account_data import (  # noqa: F401  (admin_browser, anna and boris are fixtures)
    ANNA, PASSWORD, admin_browser, anna, boris, every_value, log_in, logged_in_as, read, rows_of_account,
    tables_that_can_hold_account_data,
)
from support.admin import Account, OwnContextClient
from support.cohorts import quick_password_hashes  # noqa: F401  (autouse: sign-ups here need no real scrypt)
from support.csrf import csrf_token
from support.database import query_db

CONFIRM = "/me/account/delete"
LRS_WITH_CREDENTIALS = "https://tracker:s3cret-pw@lrs.example.org/xAPI/"


def delete_my_account(client, password: str = PASSWORD, form_page: str = CONFIRM):
    return client.post(CONFIRM, data={"csrf_token": csrf_token(client, form_page), "password": password})


def user_id_of(app, email: str) -> int:
    return query_db(app, "SELECT id FROM users WHERE email = :email", email=email)[0][0]


def test_deleting_my_account_leaves_no_row_of_it_in_any_table_and_every_other_learners_rows_as_they_were(app, anna, boris):
    mine = read(app, rows_of_account, anna.user_id)
    assert set(mine) == tables_that_can_hold_account_data(), "the account has a row in every table that can hold its data"
    others = read(app, rows_of_account, boris.user_id)

    response = delete_my_account(anna.client)
    assert response.status_code == 200 and "Your account is deleted" in response.get_data(as_text=True)

    assert read(app, rows_of_account, anna.user_id, mine) == {}, "no row names the account or hangs off one of its rows"
    traces = (anna.email, str(anna.pseudonym), anna.pseudonym.hex, anna.marker)
    left = read(app, lambda conn: [(t, c) for t, c, value in every_value(conn) if any(s in str(value) for s in traces)])
    assert left == [], "no column of any table holds the email, the pseudonym or the learner's words"
    assert read(app, rows_of_account, boris.user_id) == others


def test_the_page_after_deleting_says_what_was_removed_and_logs_this_browser_out(app, anna):
    response = delete_my_account(anna.client)
    page = response.get_data(as_text=True)
    for removed in ("progress records: 3", "tutor chat messages: 2", "answers to questions: 1", "group memberships: 1",
                    "records of nudges sent: 1", "statements not yet sent to the LRS: 1",
                    "records of statements sent to the Learning Record Store: 2", "places as a facilitator: 1",
                    "invite links made: 1"):
        assert removed in page
    assert f"the account {ANNA}" in page
    assert "Log in" in page and "Log out" not in page, "the page itself is shown logged out"
    assert logged_in_as(anna.client) is None


def test_every_other_browser_logged_in_to_the_account_is_logged_out(app, anna):
    elsewhere = log_in(app, ANNA)
    assert logged_in_as(elsewhere) == ANNA
    assert delete_my_account(anna.client).status_code == 200
    assert logged_in_as(elsewhere) is None
    assert "You are learning anonymously" in elsewhere.get("/me").get_data(as_text=True)


def test_a_new_account_given_the_deleted_accounts_id_is_not_logged_in_by_the_old_session(app):
    """SQLite gives a new row the largest rowid plus one: the next sign-up after the newest account goes gets its id."""
    ada = Account(app, "ada.5b1e@example.org", password=PASSWORD)
    ada_id = user_id_of(app, ada.email)
    elsewhere = log_in(app, ada.email)
    assert delete_my_account(ada.client).status_code == 200

    bea = Account(app, "bea.0c9d@example.org", password=PASSWORD)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert user_id_of(app, bea.email) == ada_id, "the id came back, which is the case this test is about"
    assert logged_in_as(elsewhere) is None, "ada's old session does not open bea's account"
    assert logged_in_as(bea.client) == bea.email


def test_no_remember_me_cookie_is_set_and_one_signed_with_the_apps_key_logs_no_one_in(app):
    browser = OwnContextClient(app)
    login = browser.post("/signup", data={"csrf_token": csrf_token(browser, "/signup"), "email": ANNA, "password": PASSWORD})
    assert login.status_code == 303 and REMEMBER_COOKIE not in " ".join(login.headers.getlist("Set-Cookie"))
    with app.test_request_context():
        remembered = encode_cookie(str(user_id_of(app, ANNA)))
    stranger = OwnContextClient(app)
    stranger.client.set_cookie(REMEMBER_COOKIE, remembered)
    assert logged_in_as(stranger) is None


@pytest.mark.app_config(TRACKER_LRS_URL=LRS_WITH_CREDENTIALS)
def test_the_statements_an_lrs_already_has_are_listed_before_and_after_deleting(app, anna):
    before = anna.client.get(CONFIRM)
    assert before.status_code == 200
    after = delete_my_account(anna.client)
    for page in (before.get_data(as_text=True), after.get_data(as_text=True)):
        assert "2 statements about you went to" in page
        assert all(statement_id in page for statement_id in anna.sent)
        assert not any(statement_id in page for statement_id in anna.queued), "a statement never sent is not there to erase"
        assert f"{anna.marker} lens 0" in page, "each is named by what it is about"
        assert "https://lrs.example.org/xAPI/" in page and "s3cret-pw" not in page, "the LRS's address, without its password"
        assert str(anna.pseudonym) in page, "the account name the LRS knows the learner by"


def test_without_an_lrs_the_confirmation_says_nothing_was_sent(app):
    ada = Account(app, "ada.5b1e@example.org", password=PASSWORD)
    page = ada.client.get(CONFIRM).get_data(as_text=True)
    assert "None: this site sends nothing to a Learning Record Store." in page
    assert "Delete my account?" in page and 'name="password"' in page


@pytest.mark.parametrize(
    "how, status, says",
    [
        ("wrong password", 422, "That is not this account&#39;s password, so nothing was deleted."),
        ("no password", 422, "This field is required."),
        ("no CSRF token", 400, "The CSRF token is missing."),
    ],
)
def test_a_refused_deletion_names_the_problem_and_deletes_nothing(app, anna, how, status, says):
    before = read(app, rows_of_account, anna.user_id)
    if how == "no CSRF token":
        response = anna.client.post(CONFIRM, data={"password": PASSWORD})
    else:
        response = delete_my_account(anna.client, password="not my password" if how == "wrong password" else "")
    assert response.status_code == status and says in response.get_data(as_text=True)
    assert read(app, rows_of_account, anna.user_id) == before
    assert logged_in_as(anna.client) == ANNA


def test_an_anonymous_learner_has_no_account_to_delete_but_can_still_delete_their_data(app, anna):
    before = read(app, rows_of_account, anna.user_id)
    visitor = OwnContextClient(app)
    for response in (visitor.get(CONFIRM), delete_my_account(visitor, form_page="/me/delete")):
        assert response.status_code == 403 and "there is no account to delete" in response.get_data(as_text=True)
    assert read(app, rows_of_account, anna.user_id) == before
    assert visitor.post("/me/delete", data={"csrf_token": csrf_token(visitor, "/me/delete")}).status_code == 303


@pytest.mark.app_config(TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP_AND_EMAIL="2/minute")
def test_guessing_the_password_is_rate_limited(app, anna):
    before = read(app, rows_of_account, anna.user_id)
    assert [delete_my_account(anna.client, "guess").status_code for _ in range(2)] == [422, 422]
    refused = delete_my_account(anna.client)
    assert refused.status_code == 429 and "Too many wrong passwords for this account" in refused.get_data(as_text=True)
    assert read(app, rows_of_account, anna.user_id) == before
