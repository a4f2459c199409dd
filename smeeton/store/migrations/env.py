"""Alembic's entry point: runs the migrations against the configured URL.

The store calls this through `alembic.command.upgrade` with a synchronous URL
set on the Alembic configuration; there is no alembic.ini, and logging stays
as the application set it up.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from smeeton.store.models import Base


def run_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot alter tables in place; batch mode copies them.
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def run_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
