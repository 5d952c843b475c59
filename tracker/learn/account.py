"""Delete my account: the learner confirms with their password, and everything the account holds goes with it."""
from flask import abort, current_app, render_template, session
from flask_login import current_user, logout_user

from tracker import account_deletion
from tracker.app_state import database
from tracker.auth.forms import DeleteAccountForm
from tracker.http.identity import is_logged_in
from tracker.http.ratelimit import account_deletion_limits

from . import bp

NO_ACCOUNT = (
    "You are not logged in, so there is no account to delete. Log in first; or, to remove what you did "
    "anonymously in this browser, use “Delete my data” on My progress."
)


@bp.get("/me/account/delete")
def confirm_delete_account():
    """Say what goes, list what a Learning Record Store already holds, and ask for the password."""
    return confirmation_page(DeleteAccountForm())


@bp.post("/me/account/delete")
@account_deletion_limits
def delete_account():
    """Delete the account and everything it owns, log this browser out, and say what was removed."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            deleted = account_deletion.delete_own_account(database(), logged_in_account(), form.password.data)
        except account_deletion.WrongPassword as refusal:
            form.password.errors.append(str(refusal))
        else:
            session.clear()  # the claimed anonymous token and the rest of what this session knew
            logout_user()
            return render_template("learn/account_deleted.html", deleted=deleted, lrs=lrs())
    return confirmation_page(form), 422


def confirmation_page(form: DeleteAccountForm) -> str:
    account = account_deletion.account_to_delete(database(), logged_in_account())
    return render_template("learn/delete_account.html", account=account, form=form, lrs=lrs())


def logged_in_account() -> int:
    if not is_logged_in():
        abort(403, NO_ACCOUNT)
    return current_user.id


def lrs() -> dict:
    return account_deletion.where_statements_went(current_app.config)
