"""Alembic environment: every capability's tables via hotline.schema, on SQLite or PostgreSQL.

Called two ways. From `hotline.db.migrate`, which passes an open connection in
`config.attributes["connection"]`; or from the alembic command in a checkout, where the URL
comes from `-x url=...` or from the hotline.conf named by `-x config=...` (default ./hotline.conf).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from hotline.db.engine import make_engine
from hotline.schema import import_models

DEFAULT_CONFIG = "hotline.conf"

target_metadata = import_models()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url_from_command_line() -> str:
    arguments = context.get_x_argument(as_dictionary=True)
    if "url" in arguments:
        return arguments["url"]
    from hotline.config import load_config

    return load_config(arguments.get("config", DEFAULT_CONFIG)).database.url


def run_migrations_offline() -> None:
    """`alembic upgrade --sql`: print the SQL for a DBA instead of running it."""
    context.configure(url=_url_from_command_line(), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(_url_from_command_line())
    try:
        with engine.begin() as connection:
            _configure(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
