"""The migrations build exactly the schema the models describe, on both databases, and go back down cleanly."""
import os

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, make_url, text

from support.app import running_app
from tracker.db import db


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert differences == []


def test_progress_table_has_the_partial_unique_indexes(app):
    with app.app_context():
        indexes = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("user_content_progress")}
    assert indexes["uq_progress_user_content"]["unique"]
    assert indexes["uq_progress_user_content"]["column_names"] == ["user_id", "content_id"]
    assert indexes["uq_progress_anonymous_content"]["unique"]
    assert indexes["uq_progress_anonymous_content"]["column_names"] == ["anonymous_token", "content_id"]


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_url(request, tmp_path):
    """An empty database of its own: a SQLite file, or a fresh schema beside the PostgreSQL test schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}"
        return
    shared = make_url(request.getfixturevalue("postgresql_url"))
    schema = f"tracker_migrations_{os.getpid()}"
    engine = create_engine(shared)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield shared.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def tables_and_indexes(app) -> dict:
    with app.app_context():
        inspector = inspect(db.engine)
        return {name: sorted(ix["name"] for ix in inspector.get_indexes(name)) for name in inspector.get_table_names()}


def test_the_question_answers_migration_upgrades_downgrades_and_upgrades_again(unmigrated_url):
    with running_app({"SQLALCHEMY_DATABASE_URI": unmigrated_url, "TRACKER_CONTENT_CHECK_S": 0}, empty=False) as app:
        with app.app_context():
            flask_migrate.upgrade(revision="0004")
        before = tables_and_indexes(app)
        assert "question_answers" not in before
        with app.app_context():
            flask_migrate.upgrade(revision="0005")
        assert tables_and_indexes(app)["question_answers"] == [
            "uq_question_answers_anonymous_question", "uq_question_answers_user_question",
        ]
        with app.app_context():
            flask_migrate.downgrade(revision="0004")
        assert tables_and_indexes(app) == before
        with app.app_context():
            flask_migrate.upgrade()
            with db.engine.connect() as conn:
                differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert differences == []


def test_the_cohorts_migration_upgrades_and_downgrades_without_touching_accounts_or_their_progress(unmigrated_url):
    """0007 adds a column to users and takes it away again in place: rebuilding users would cascade to progress."""
    with running_app({"SQLALCHEMY_DATABASE_URI": unmigrated_url, "TRACKER_CONTENT_CHECK_S": 0}, empty=False) as app:
        with app.app_context():
            flask_migrate.upgrade(revision="0006")
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO users (email, password_hash) VALUES ('ada@example.org', 'x')"))
                conn.execute(text(
                    "INSERT INTO user_content_progress (user_id, content_id, content_type, started_at)"
                    " SELECT id, :content, 'lens', CURRENT_TIMESTAMP FROM users"
                ), {"content": "00000000-0000-0000-0000-000000000001" if db.engine.dialect.name == "postgresql"
                    else bytes(15) + b"\x01"})
            before = tables_and_indexes(app)
            flask_migrate.upgrade(revision="0007")
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT COUNT(*) FROM user_content_progress")).scalar_one() == 1
        after = tables_and_indexes(app)
        assert {"cohorts", "cohort_meetings", "cohort_groups", "group_memberships", "group_facilitators", "group_invites"} <= set(after)
        assert "ix_group_memberships_group_id" in after["group_memberships"]
        with app.app_context():
            flask_migrate.downgrade(revision="0006")
            with db.engine.connect() as conn:
                kept = conn.execute(text("SELECT COUNT(*) FROM user_content_progress")).scalar_one()
        assert tables_and_indexes(app) == before and kept == 1


def test_the_nudges_migration_upgrades_downgrades_and_upgrades_again(unmigrated_url):
    with running_app({"SQLALCHEMY_DATABASE_URI": unmigrated_url, "TRACKER_CONTENT_CHECK_S": 0}, empty=False) as app:
        with app.app_context():
            flask_migrate.upgrade(revision="0007")
        before = tables_and_indexes(app)
        with app.app_context():
            flask_migrate.upgrade(revision="0008")
            columns = {column["name"] for column in inspect(db.engine).get_columns("users")}
        assert "ix_sent_nudges_group_meeting" in tables_and_indexes(app)["sent_nudges"] and "nudges_enabled" in columns
        with app.app_context():
            flask_migrate.downgrade(revision="0007")
            columns = {column["name"] for column in inspect(db.engine).get_columns("users")}
        assert tables_and_indexes(app) == before and "nudges_enabled" not in columns
        with app.app_context():
            flask_migrate.upgrade()
            with db.engine.connect() as conn:
                differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert differences == []
