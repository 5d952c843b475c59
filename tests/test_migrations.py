"""The migrations build exactly the schema the models describe, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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
