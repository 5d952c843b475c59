"""Admin accounts: create one, or promote an existing account. No Flask here."""

from sqlalchemy import Connection, update

from tracker import accounts
from tracker.models import User

users = User.__table__


class AdminError(Exception):
    """The admin account cannot be made as asked."""


def promote_to_admin(conn: Connection, email: str) -> bool:
    """Make an existing account an admin; return whether the account exists."""
    statement = update(users).where(users.c.email == accounts.normalise_email(email)).values(is_admin=True)
    return conn.execute(statement).rowcount == 1


def create_admin(conn: Connection, email: str, password: str, display_name: str = "") -> int:
    """Create a new admin account and return its id."""
    if "@" not in email or len(email) > 320:
        raise AdminError(f"not an email address: {email!r}")
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        raise AdminError(f"the password must have at least {accounts.MIN_PASSWORD_LENGTH} characters")
    return accounts.create_user(conn, email, password, display_name, is_admin=True)
