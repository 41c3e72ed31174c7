"""Migrations build the schema the models describe, on an empty database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from forum import create_app
from forum.extensions import db


@pytest.fixture
def empty_database_url(tmp_path, database):
    if database.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    # PostgreSQL: a schema of its own, dropped afterwards.
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_test CASCADE"))
        connection.execute(text("CREATE SCHEMA migration_test"))
    separator = "&" if "?" in database else "?"
    yield f"{database}{separator}options=-csearch_path%3Dmigration_test"
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_test CASCADE"))
    engine.dispose()


def test_upgrade_from_empty_matches_the_models(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        upgrade()  # a second run is a no-op
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert {"users", "threads", "comments", "articles", "api_tokens"} <= tables
