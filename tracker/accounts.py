"""Accounts: sign-up, password checks, and making admins and facilitators. No Flask here.

Each function takes the app's Db and runs in a transaction of its own.
"""
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.clock import as_utc
from tracker.database import Db
from tracker.models import User

users = User.__table__
MIN_PASSWORD_LENGTH = 8
# Checked when the email is unknown, so a failed login takes as long whether or not the account exists.
UNKNOWN_USER_HASH = generate_password_hash("not a real password")


class EmailTaken(Exception):
    """An account with this email already exists."""


class AdminError(Exception):
    """The admin account cannot be made as asked."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(db: Db, email: str, password: str, display_name: str = "", is_admin: bool = False) -> int:
    """Create an account and return its id."""
    with db.transaction() as conn:
        return insert_user(conn, normalise_email(email), password, display_name, is_admin)


def insert_user(conn: Connection, email: str, password: str, display_name: str, is_admin: bool) -> int:
    """Insert the account (email already normalised) inside the caller's transaction."""
    if conn.execute(select(users.c.id).where(users.c.email == email)).first():
        raise EmailTaken(email)
    values = {
        "email": email,
        "password_hash": generate_password_hash(password),
        "display_name": display_name.strip(),
        "is_admin": is_admin,
        "created_at": func.now(),
    }
    try:
        with conn.begin_nested():  # a concurrent sign-up with the same email loses here, cleanly
            return conn.execute(insert(users).values(**values).returning(users.c.id)).scalar_one()
    except IntegrityError:
        raise EmailTaken(email) from None


def authenticate(db: Db, email: str, password: str) -> int | None:
    """The id of the account with this email and password, or None."""
    with db.transaction() as conn:
        row = conn.execute(
            select(users.c.id, users.c.password_hash).where(users.c.email == normalise_email(email))
        ).first()
    if row is None:
        check_password_hash(UNKNOWN_USER_HASH, password)
        return None
    return row.id if check_password_hash(row.password_hash, password) else None


def account_details(conn: Connection, user_id: int) -> dict | None:
    """The account as its owner may read it, everything but the password hash; None when there is no such account."""
    row = conn.execute(
        select(users.c.email, users.c.display_name, users.c.created_at, users.c.pseudonym, users.c.is_admin,
               users.c.is_facilitator, users.c.nudges_enabled).where(users.c.id == user_id)
    ).first()
    if row is None:
        return None
    return {
        "email": row.email, "display_name": row.display_name, "created_at": as_utc(row.created_at), "pseudonym": row.pseudonym,
        "roles": {"admin": row.is_admin, "facilitator": row.is_facilitator}, "nudges_enabled": row.nudges_enabled,
    }


def promote_to_admin(db: Db, email: str) -> bool:
    """Make an existing account an admin; return whether the account exists."""
    statement = update(users).where(users.c.email == normalise_email(email)).values(is_admin=True)
    with db.transaction() as conn:
        return conn.execute(statement).rowcount == 1


def create_admin(db: Db, email: str, password: str, display_name: str = "") -> int:
    """Create a new admin account and return its id."""
    check_staff_account(email, password)
    return create_user(db, email, password, display_name, is_admin=True)


def check_staff_account(email: str, password: str) -> None:
    if "@" not in email or len(email) > 320:
        raise AdminError(f"not an email address: {email!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def promote_to_facilitator(db: Db, email: str) -> bool:
    """Give an existing account the facilitator role; return whether the account exists."""
    statement = update(users).where(users.c.email == normalise_email(email)).values(is_facilitator=True)
    with db.transaction() as conn:
        return conn.execute(statement).rowcount == 1


def create_facilitator(db: Db, email: str, password: str, display_name: str = "") -> int:
    """Create a new account with the facilitator role and return its id."""
    check_staff_account(email, password)
    with db.transaction() as conn:
        user_id = insert_user(conn, normalise_email(email), password, display_name, is_admin=False)
        conn.execute(update(users).where(users.c.id == user_id).values(is_facilitator=True))
        return user_id
