"""Rate limits on logins and sign-ups: failures count per email and address, sign-ups per browser and address.

A refused form gets a page a person can read, saying when to try again (support/rate_limits.py).
"""
import pytest

from support.admin import OwnContextClient
from support.rate_limits import (
    ELSEWHERE,
    EMAIL,
    HOUR,
    PASSWORD,
    QUARTER_HOUR,
    emails,
    log_in,
    logged_in,
    refused_as_html,
    sign_up,
)

app_config = pytest.mark.app_config


@pytest.fixture
def account(browser_like):
    """An account for EMAIL, and the browser logged out again."""
    assert browser_like.signup(EMAIL, PASSWORD).status_code == 303
    assert browser_like.logout().status_code == 303
    assert not logged_in(browser_like.client)
    return EMAIL


@app_config(TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP_AND_EMAIL="3 per 15 minutes")
def test_after_repeated_failed_logins_even_the_right_password_gets_429_until_the_window_ends(
    client, account, database_snapshot
):
    assert [log_in(client, account, "wrong password").status_code for _ in range(3)] == [422, 422, 422]
    before = database_snapshot()

    # Refused before the password is checked: a guesser learns nothing, even when the guess is right.
    refused = log_in(client, account, PASSWORD)
    html = refused_as_html(
        refused, "Too many failed logins for this email from this network address: the limit is 3 per 15 minutes.", QUARTER_HOUR
    )
    assert "<h1>429</h1>" in html
    assert not logged_in(client)
    assert database_snapshot() == before

    assert log_in(client, account, PASSWORD, address=ELSEWHERE).status_code == 303, "the owner elsewhere is not locked out"


@app_config(TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP_AND_EMAIL="2/hour", TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP="2/hour")
def test_successful_logins_do_not_count_against_the_failed_login_limit(client, browser_like, account):
    assert log_in(client, account, "wrong password").status_code == 422
    for _ in range(3):
        assert log_in(client, account, PASSWORD).status_code == 303
        browser_like.logout()
    assert log_in(client, account, "wrong password").status_code == 422, "one failure is still left"
    refused_as_html(log_in(client, account, PASSWORD), "Too many failed logins", HOUR)


@app_config(TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP_AND_EMAIL="2/hour", TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP="4/hour")
def test_another_email_from_the_same_address_has_its_own_allowance_until_the_address_limit(client, account):
    assert [log_in(client, account, "wrong").status_code for _ in range(2)] == [422, 422]
    refused_as_html(log_in(client, account, "wrong"), "Too many failed logins for this email from this network address", HOUR)

    assert [log_in(client, "grace@example.org", "wrong").status_code for _ in range(2)] == [422, 422]
    # Four failures from this address now, whatever the emails: a third email is refused at once.
    refused_as_html(
        log_in(client, "alan@example.org", "wrong"),
        "Too many failed logins from this network address: the limit is 4 an hour.", HOUR,
    )
    assert log_in(client, "alan@example.org", "wrong", address=ELSEWHERE).status_code == 422


@app_config(TRACKER_RATELIMIT_SIGNUP_PER_LEARNER="2/hour")
def test_one_browser_sending_too_many_signups_gets_429_and_no_account_is_made(app, client, database_snapshot):
    client.get("/")  # the browser gets its anonymous cookie, which names it
    assert [sign_up(client, f"ada{n}@example.org", "short").status_code for n in range(2)] == [422, 422]
    before = database_snapshot()

    refused = sign_up(client, EMAIL)
    refused_as_html(refused, "Too many sign-ups from this browser: the limit is 2 an hour.", HOUR)
    assert database_snapshot() == before and emails(app) == []

    # Browsers without our cookie cannot be told apart, so only the address limit counts them:
    # more of them than one browser's allowance are served.
    newcomers = [f"newcomer{n}@example.org" for n in range(3)]
    assert [sign_up(OwnContextClient(app), email).status_code for email in newcomers] == [303, 303, 303]
    assert emails(app) == newcomers


@app_config(TRACKER_RATELIMIT_SIGNUP_PER_IP="2/hour")
def test_signups_from_one_address_are_limited_together_while_another_address_is_served(app, database_snapshot):
    # Fresh browsers without a cookie (each with its own CSRF token): only their address tells them apart.
    assert [sign_up(OwnContextClient(app), f"ada{n}@example.org").status_code for n in range(2)] == [303, 303]
    before = database_snapshot()

    refused = sign_up(OwnContextClient(app), EMAIL)
    refused_as_html(refused, "Too many sign-ups from this network address: the limit is 2 an hour.", HOUR)
    assert database_snapshot() == before

    assert sign_up(OwnContextClient(app), EMAIL, address=ELSEWHERE).status_code == 303
    assert EMAIL in emails(app)
