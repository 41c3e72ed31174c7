"""Migrations build the schema the models describe, on an empty database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from forum import create_app
from forum.extensions import db
from forum.models import include_search_objects


def test_upgrade_from_empty_matches_the_models(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        upgrade()  # a second run is a no-op
        with db.engine.connect() as connection:
            # The full-text index is no table of the models (forum.models.search_index).
            opts = {"compare_type": True, "include_name": include_search_objects}
            context = MigrationContext.configure(connection, opts=opts)
            diff = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert {"users", "threads", "comments", "articles", "api_tokens"} <= tables
