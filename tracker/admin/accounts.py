"""Deleting a learner's account on their request: a confirmation page where the admin types the learner's email."""
from flask import current_app, render_template
from flask_login import current_user

from tracker import account_deletion
from tracker.app_state import database
from tracker.auth.forms import ConfirmAccountDeletionForm

from . import bp

ACCOUNT_ID = "int(max=2147483647):user_id"
STATUS_BY_REFUSAL = {account_deletion.EmailDoesNotMatch: 422, account_deletion.OwnAccount: 403}


@bp.get(f"/learners/<{ACCOUNT_ID}>/delete")
def confirm_delete_account(user_id: int):
    """What goes, what a Learning Record Store already holds, and the email to type."""
    return confirmation_page(user_id, ConfirmAccountDeletionForm())


@bp.post(f"/learners/<{ACCOUNT_ID}>/delete")
def delete_account(user_id: int):
    """Delete the account and everything it owns, as its owner can, and show what was removed."""
    form = ConfirmAccountDeletionForm()
    if not form.validate_on_submit():
        return confirmation_page(user_id, form), 422
    try:
        deleted = account_deletion.delete_account_on_request(database(), current_user.id, user_id, form.email.data)
    except account_deletion.DeletionRefused as refusal:
        form.email.errors.append(str(refusal))
        return confirmation_page(user_id, form), STATUS_BY_REFUSAL.get(type(refusal), 422)
    return render_template("admin/account_deleted.html", deleted=deleted, lrs=lrs())


def confirmation_page(user_id: int, form: ConfirmAccountDeletionForm) -> str:
    account = account_deletion.account_to_delete(database(), user_id)
    return render_template("admin/delete_account.html", account=account, form=form, lrs=lrs())


def lrs() -> dict:
    return account_deletion.where_statements_went(current_app.config)
