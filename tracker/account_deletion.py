"""Deleting an account and everything it owns: by its owner, with their password, or by an admin on request. No Flask here.

Each deletion is one transaction: the account and every row that refers to it go together, or
nothing does. The statements an LRS already accepted are read in that same transaction, just
before their rows go, so the page after the deletion lists exactly what is gone here but kept there.
"""
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from sqlalchemy import Connection, delete, select
from werkzeug.security import check_password_hash

from tracker.accounts import normalise_email, users
from tracker.cohorts.store import delete_facilitations, delete_invites_made_by
from tracker.database import Db
from tracker.learner import Learner
from tracker.lrs.outbox import delete_owned, sent_statements
from tracker.progress.errors import UnknownLearner
from tracker.progress.learner_data import delete_learning_records

log = logging.getLogger(__name__)


class DeletionRefused(Exception):
    """The account cannot be deleted as asked; nothing was deleted."""


class WrongPassword(DeletionRefused):
    """The password given is not the account's."""


class EmailDoesNotMatch(DeletionRefused):
    """The email an admin typed to confirm is not the account's."""


class OwnAccount(DeletionRefused):
    """An admin asked the admin pages to delete their own account."""


@dataclass(frozen=True)
class AccountToDelete:
    user_id: int
    email: str
    display_name: str
    pseudonym: UUID | None  # the account's name in xAPI statements
    is_facilitator: bool
    sent_to_lrs: list[dict]  # tracker.lrs.outbox.sent_statements: what deleting here cannot take back


@dataclass(frozen=True)
class DeletedAccount:
    user_id: int
    email: str
    pseudonym: UUID | None
    removed: dict[str, int]  # how many records of each kind went with the account
    sent_to_lrs: list[dict]


def account_to_delete(db: Db, user_id: int) -> AccountToDelete:
    """What the confirmation page shows: the account, and its statements an LRS already holds."""
    with db.transaction() as conn:
        account = find_account(conn, user_id)
        return AccountToDelete(
            account.id, account.email, account.display_name, account.pseudonym, account.is_facilitator,
            sent_statements(conn, Learner(user_id=user_id)),
        )


def delete_own_account(db: Db, user_id: int, password: str) -> DeletedAccount:
    """The owner deletes their account, confirming with its password; in one transaction."""
    with db.transaction() as conn:
        account = find_account(conn, user_id, for_deletion=True)
        if not check_password_hash(account.password_hash, password):
            raise WrongPassword("That is not this account's password, so nothing was deleted.")
        deleted = remove_account(conn, account)
    log.info("account %s deleted by its owner", user_id, extra={"deleted_user_id": user_id})
    return deleted


def delete_account_on_request(db: Db, admin_id: int, user_id: int, typed_email: str) -> DeletedAccount:
    """An admin deletes a learner's account, having typed its email to confirm; in one transaction.

    The log line names the admin and the account's id, never the deleted email: the log outlives the account.
    """
    with db.transaction() as conn:
        account = find_account(conn, user_id, for_deletion=True)
        if account.id == admin_id:
            raise OwnAccount("This is your own account: delete it with “Delete my account” on My progress, with your password.")
        if normalise_email(typed_email) != account.email:
            raise EmailDoesNotMatch("That is not this account's email, so nothing was deleted.")
        admin_email = conn.execute(select(users.c.email).where(users.c.id == admin_id)).scalar()
        deleted = remove_account(conn, account)
    log.info(
        "account %s deleted on request by admin %s (%s)", user_id, admin_id, admin_email,
        extra={"deleted_user_id": user_id, "admin_user_id": admin_id, "admin_email": admin_email},
    )
    return deleted


def where_statements_went(settings: Mapping) -> dict:
    """What the deletion pages say of the LRS: its address, without a user name or password written
    into it, and how its statements name a learner (TRACKER_XAPI_ACTOR)."""
    url = settings.get("TRACKER_LRS_URL", "")
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or ""
    address = urlunsplit(parts._replace(netloc=host)) if url else ""
    return {"address": address, "actor": settings.get("TRACKER_XAPI_ACTOR", "account")}


def find_account(conn: Connection, user_id: int, for_deletion: bool = False):
    columns = users.c.id, users.c.email, users.c.display_name, users.c.pseudonym, users.c.is_facilitator, users.c.password_hash
    query = select(*columns).where(users.c.id == user_id)
    # On PostgreSQL, a second deletion of the same account waits here and then finds it gone.
    row = conn.execute(query.with_for_update() if for_deletion else query).first()
    if row is None:
        raise UnknownLearner("There is no such account: it may have been deleted already.")
    return row


def remove_account(conn: Connection, account) -> DeletedAccount:
    """Delete every row the account owns, then the account, inside the caller's transaction."""
    learner = Learner(user_id=account.id)
    # Read before the outbox rows go. A statement that `lrs-push` is posting at this very moment
    # is not marked sent yet, so it is not listed, though the LRS may already have it.
    sent = sent_statements(conn, learner)
    removed = delete_learning_records(conn, learner) | {
        "records of statements sent to the Learning Record Store": delete_owned(conn, learner),  # the unsent went above
        "places as a facilitator": delete_facilitations(conn, account.id),
        "invite links made": delete_invites_made_by(conn, account.id),
    }
    # Every table that refers to users does so ON DELETE CASCADE: a row written for the account
    # while this ran (a heartbeat from another tab) goes with it.
    if conn.execute(delete(users).where(users.c.id == account.id)).rowcount != 1:
        raise UnknownLearner("There is no such account: it may have been deleted already.")
    return DeletedAccount(account.id, account.email, account.pseudonym, removed, sent)
