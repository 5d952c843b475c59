"""The database itself refuses rows that break the model's rules."""
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from tracker.db import db
from tracker.models import User, UserContentProgress

progress = UserContentProgress.__table__


def row(**overrides) -> dict:
    values = {
        "anonymous_token": uuid.uuid4(),
        "content_id": uuid.uuid4(),
        "content_type": "lens",
        "content_title": "A lens",
        "started_at": datetime.now(timezone.utc),
    }
    return {**values, **overrides}


def insert_rows(app, *rows) -> None:
    with app.app_context(), db.engine.begin() as conn:
        for values in rows:
            conn.execute(insert(progress).values(**values))


@pytest.mark.parametrize(
    "bad_row",
    [
        pytest.param({"anonymous_token": None}, id="no-owner"),
        pytest.param({"content_type": "chapter"}, id="unknown-content-type"),
    ],
)
def test_progress_row_rules_are_enforced(app, bad_row):
    with pytest.raises(IntegrityError):
        insert_rows(app, row(**bad_row))


def test_a_row_cannot_belong_to_both_a_user_and_a_token(app):
    with app.app_context(), db.engine.begin() as conn:
        user_id = conn.execute(insert(User.__table__).values(email="a@example.org", password_hash="x")).inserted_primary_key[0]
    with pytest.raises(IntegrityError):
        insert_rows(app, row(user_id=user_id))


def test_one_row_per_learner_and_content(app):
    duplicate = row()
    with pytest.raises(IntegrityError):
        insert_rows(app, duplicate, dict(duplicate))


def test_emails_are_unique_regardless_of_case(app):
    with pytest.raises(IntegrityError), app.app_context(), db.engine.begin() as conn:
        conn.execute(insert(User.__table__).values(email="Ada@Example.org", password_hash="x"))
