"""The database a configuration points at: its URLs, its engine, its schema."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from smeeton.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# The async driver for each dialect, and the sync one Alembic runs with.
# LIMITATION: PostgreSQL needs asyncpg and psycopg installed by hand, and no
# test runs against it yet; SQLite is the only tested database.
_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
_SYNC_DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}


def urls(config: Config) -> tuple[URL, URL]:
    """The async URL the server uses and the sync one migrations use.

    An empty `store.url` means the SQLite file `<data_dir>/smeeton.db`.
    """
    if config.store.url:
        url = make_url(config.store.url)
    else:
        path = (config.data_path / "smeeton.db").resolve()
        url = URL.create("sqlite", database=str(path))
    dialect = url.get_backend_name()
    if dialect not in _ASYNC_DRIVERS:
        raise ValueError(f"store.url: unsupported database {dialect!r}")
    async_url = url.set(drivername=f"{dialect}+{_ASYNC_DRIVERS[dialect]}")
    sync_url = url.set(drivername=f"{dialect}+{_SYNC_DRIVERS[dialect]}")
    return async_url, sync_url


def create_engine(url: URL) -> AsyncEngine:
    """An async engine; on SQLite, with foreign keys enforced and WAL on, so
    the command line can write while the server reads."""
    engine = create_async_engine(url)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection, record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


async def migrate(sync_url: URL) -> None:
    """Bring the schema up to the newest migration; nothing happens when it
    is there already. Alembic is synchronous, so it runs in a thread."""
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    # Alembic reads options through ConfigParser, which treats % specially.
    rendered = sync_url.render_as_string(hide_password=False)
    alembic.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    await asyncio.to_thread(command.upgrade, alembic, "head")
