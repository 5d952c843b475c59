"""Delete my account in a real browser: from My progress, with the password, and every other browser of the account is logged out."""
EMAIL, PASSWORD = "lin.3a7e@example.org", "a long enough password"


def sign_up(page) -> None:
    page.goto("/signup")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password (at least 8 characters)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/me")


def log_in(page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/me")


def test_deleting_my_account_from_my_progress_logs_out_every_browser(page, browser, server, screenshot):
    sign_up(page)
    elsewhere = browser.new_context(base_url=server).new_page()
    log_in(elsewhere)

    page.get_by_role("link", name="Delete my account…").click()
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Delete my account").click()
    assert "That is not this account's password, so nothing was deleted." in page.locator("main").inner_text()
    page.get_by_label("Your password").fill(PASSWORD)
    screenshot(page, "delete-account", full_page=True)
    page.get_by_role("button", name="Delete my account").click()

    page.get_by_role("heading", name="Your account is deleted").wait_for()
    screenshot(page, "account-deleted", full_page=True)
    assert page.get_by_role("link", name="Log in").is_visible()
    elsewhere.goto("/me")
    assert "You are learning anonymously" in elsewhere.locator("main").inner_text()
    elsewhere.context.close()
