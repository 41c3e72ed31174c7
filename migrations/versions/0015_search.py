"""search: comments' words in each database's own full-text index

comments.search_text holds a comment's theory title and text as folded plain
words (forum.markup.words.indexed_text, the function the application keeps it
with, as 0012_identity uses name_key); existing comments are filled in here.
Then the index, per database (forum.models.search_index describes both):
SQLite an FTS5 table with external content and three triggers, PostgreSQL a GIN
index on to_tsvector('simple', search_text).  The statements are written out
here, as they stood when this migration was made.

Revision ID: 0015_search
Revises: 0015_alerts
Create Date: 2026-12-09 10:00:00

"""
from alembic import op
import sqlalchemy as sa

from forum.markup.words import indexed_text


# revision identifiers, used by Alembic.
revision = '0015_search'
down_revision = '0015_alerts'
branch_labels = None
depends_on = None

BATCH = 500

SQLITE = (
    "CREATE VIRTUAL TABLE comments_search USING fts5(search_text, content='comments', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    # Filled from comments.search_text, before the triggers keep it in step.
    "INSERT INTO comments_search(comments_search) VALUES ('rebuild')",
    """CREATE TRIGGER comments_search_insert AFTER INSERT ON comments BEGIN
  INSERT INTO comments_search(rowid, search_text) VALUES (new.id, new.search_text);
END""",
    """CREATE TRIGGER comments_search_delete AFTER DELETE ON comments BEGIN
  INSERT INTO comments_search(comments_search, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
END""",
    """CREATE TRIGGER comments_search_update AFTER UPDATE OF search_text ON comments BEGIN
  INSERT INTO comments_search(comments_search, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
  INSERT INTO comments_search(rowid, search_text) VALUES (new.id, new.search_text);
END""",
)
POSTGRESQL = (
    "CREATE INDEX IF NOT EXISTS ix_comments_search ON comments "
    "USING gin (to_tsvector('simple'::regconfig, search_text))",
)


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('search_text', sa.Text(), server_default='', nullable=False)
        )
    _fill()
    dialect = op.get_bind().dialect.name
    for statement in {'sqlite': SQLITE, 'postgresql': POSTGRESQL}.get(dialect, ()):
        op.execute(statement)


def _fill():
    """Every existing comment's words, a batch at a time."""
    connection = op.get_bind()
    comments = sa.table(
        'comments',
        sa.column('id', sa.Integer),
        sa.column('html', sa.Text),
        sa.column('theory_title', sa.String),
        sa.column('search_text', sa.Text),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(comments.c.id, comments.c.html, comments.c.theory_title)
            .where(comments.c.id > last)
            .order_by(comments.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            comments.update()
            .where(comments.c.id == sa.bindparam('cid'))
            .values(search_text=sa.bindparam('words')),
            [{'cid': cid, 'words': indexed_text(html or '', title)} for cid, html, title in rows],
        )
        last = rows[-1].id


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER IF EXISTS comments_search_{trigger}')
        op.execute('DROP TABLE IF EXISTS comments_search')
    elif dialect == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_comments_search')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('search_text')
