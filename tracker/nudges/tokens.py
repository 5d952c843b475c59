"""The signed token of a learner's one-click unsubscribe link. No Flask here.

The token names the account and a digest of its email, signed with the app's SECRET_KEY and a
salt of its own (so no other signed value of the app can pass for one). It does not expire: the
link in a nudge from months ago must still work, as RFC 8058 expects of a List-Unsubscribe
address. The email itself is not in it, because links end up in server logs.
"""
import hashlib

from itsdangerous import BadData, URLSafeSerializer

from .errors import BadUnsubscribeLink

SALT = "tracker.nudges.unsubscribe"


def email_digest(email: str) -> str:
    """Ties a token to the account's email, so a token outlives neither a change of email nor a reused id."""
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def unsubscribe_token(secret_key: str, user_id: int, email: str) -> str:
    return URLSafeSerializer(secret_key, salt=SALT).dumps([user_id, email_digest(email)])


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[int, str]:
    """(user id, email digest) of a token this app signed; BadUnsubscribeLink for anything else."""
    try:
        payload = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except BadData:
        raise BadUnsubscribeLink("This unsubscribe link is not valid: it may have been cut short or changed. "
                                 "You can turn nudges off on My progress instead.") from None
    if not (isinstance(payload, list) and len(payload) == 2 and type(payload[0]) is int and isinstance(payload[1], str)):
        raise BadUnsubscribeLink("This unsubscribe link is not valid. You can turn nudges off on My progress instead.")
    return payload[0], payload[1]
