"""Learner accounts: sign-up and password checks. No Flask here."""
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.models import User

users = User.__table__
MIN_PASSWORD_LENGTH = 8
# Checked when the email is unknown, so a failed login takes as long whether or not the account exists.
UNKNOWN_USER_HASH = generate_password_hash("not a real password")


class EmailTaken(Exception):
    """An account with this email already exists."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(conn: Connection, email: str, password: str, display_name: str = "", is_admin: bool = False) -> int:
    """Create an account and return its id."""
    email = normalise_email(email)
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


def authenticate(conn: Connection, email: str, password: str) -> int | None:
    """The id of the account with this email and password, or None."""
    row = conn.execute(
        select(users.c.id, users.c.password_hash).where(users.c.email == normalise_email(email))
    ).first()
    if row is None:
        check_password_hash(UNKNOWN_USER_HASH, password)
        return None
    return row.id if check_password_hash(row.password_hash, password) else None
