"""Check a gradebook URL (``--db``) before any grading starts, and say in one line what is wrong.

nbgrader opens its gradebook through SQLAlchemy, which turns a missing driver, a server
that is not running or a wrong password into tracebacks of 50 to 150 lines (ending in
advice to run `nbgrader db upgrade`). `check_db_url` connects once, up front, and raises
`DatabaseError` with one sentence instead.

``postgresql://user:password@host:port/dbname`` uses psycopg 3, the ``postgres`` extra:
``pip install -e '.[postgres]'``.
"""
from __future__ import annotations

import contextlib
import re
import zlib
from pathlib import Path

__all__ = ["DatabaseError", "alembic_head", "check_db_url", "gradebook_lock", "new_gradebooks_in_process",
           "prepare_schema"]

# The advisory lock that serialises changes to a shared gradebook's structure (its tables,
# the units' assignments): two runs on two machines starting at once would otherwise both
# create the same tables and rows. Scores are written by each run's single writer in short
# transactions, which PostgreSQL serialises without help.
LOCK_KEY = zlib.crc32(b"gradelib gradebook structure")

INSTALL_DRIVER = "pip install -e '.[postgres]'"

# What the PostgreSQL client library says (libpq's messages), and what to tell the user.
_PG_ERRORS = [
    (re.compile(r"password authentication failed|no password supplied|fe_sendauth"),
     "PostgreSQL refused the login of user {user!r}: wrong or missing password"),
    (re.compile(r"Connection refused|could not connect|No such file or directory|timeout expired|Name or service not known"
                r"|could not translate host name"),
     "cannot connect to PostgreSQL at {where}: is the server running, and are host and port right?"),
    (re.compile(r'database "[^"]*" does not exist'),
     "PostgreSQL at {where} has no database {database!r}: create it (createdb {database}) or name another"),
    (re.compile(r'role "[^"]*" does not exist'),
     "PostgreSQL at {where} has no user {user!r}"),
    (re.compile(r"permission denied"),
     "PostgreSQL user {user!r} may not use database {database!r} (permission denied)"),
]


class DatabaseError(ValueError):
    """The gradebook named by ``--db`` cannot be used; the message says why in one line."""


def _is_postgres(db_url: str) -> bool:
    from sqlalchemy.engine import make_url

    return make_url(db_url).get_backend_name() == "postgresql"


@contextlib.contextmanager
def gradebook_lock(db_url: str):
    """Hold the gradebook's structure lock (PostgreSQL); SQLite needs none (one writer per file)."""
    if not _is_postgres(db_url):
        yield
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
    finally:
        engine.dispose()


def prepare_schema(db_url: str) -> None:
    """Create nbgrader's tables in a new gradebook, one run at a time (see LOCK_KEY)."""
    from nbgrader.api import Gradebook

    from .course import COURSE_ID, tools_on_path

    tools_on_path()  # nbgrader runs `alembic` to set up a new gradebook
    with gradebook_lock(db_url), Gradebook(db_url, COURSE_ID):
        pass


def _redacted(url) -> str:
    return url.render_as_string(hide_password=True)


def check_db_url(db_url: str) -> str:
    """Connect to ``db_url`` once and return it; raise DatabaseError when it cannot be used."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

    try:
        url = make_url(db_url)
    except ArgumentError:
        raise DatabaseError(f"--db {db_url!r} is not a database URL (e.g. postgresql://user@host/dbname or sqlite:///path/gradebook.db)") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database and url.database != ":memory:" and not Path(url.database).parent.is_dir():
            raise DatabaseError(f"--db {db_url}: the folder {Path(url.database).parent} does not exist")
        return db_url
    if backend != "postgresql":
        raise DatabaseError(f"--db {_redacted(url)}: gradelib supports PostgreSQL (postgresql://...) and SQLite (sqlite:///...) gradebooks")
    try:
        engine = create_engine(url)
    except (ModuleNotFoundError, NoSuchModuleError) as error:
        missing = getattr(error, "name", None) or "its driver"
        if missing == "psycopg":
            raise DatabaseError(f"--db {_redacted(url)} needs the PostgreSQL driver psycopg, which is not installed: "
                                f"{INSTALL_DRIVER}") from None
        raise DatabaseError(f"--db {_redacted(url)} asks for the driver {missing}, which is not installed; "
                            f"use postgresql://... with psycopg 3: {INSTALL_DRIVER}") from None
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        message = str(error.orig or error)
        for pattern, sentence in _PG_ERRORS:
            if pattern.search(message):
                raise DatabaseError(sentence.format(user=url.username, where=where, database=url.database)) from None
        first = next((line.strip() for line in message.splitlines() if line.strip()), "unknown error")
        raise DatabaseError(f"cannot use the PostgreSQL gradebook at {where}: {first[:300]}") from None
    except SQLAlchemyError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatabaseError(f"cannot use the gradebook {_redacted(url)}: {first[:300]}") from None
    finally:
        engine.dispose()
    return db_url


def alembic_head() -> str:
    """The schema version nbgrader stamps on a new gradebook, as ``alembic heads`` prints it first."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_heads()[0]


@contextlib.contextmanager
def new_gradebooks_in_process():
    """While it lasts, a new gradebook gets its schema version from alembic in this process.

    nbgrader 0.9.6 runs the ``alembic heads`` command for each gradebook it creates: a Python
    start with its imports, about 2 s of CPU, paid by every release and by a grading run's
    template gradebook. ``alembic_head`` reads the same migration scripts here, in 0.1 s.
    """
    import nbgrader.api

    saved = nbgrader.api.get_alembic_version
    nbgrader.api.get_alembic_version = alembic_head
    try:
        yield
    finally:
        nbgrader.api.get_alembic_version = saved
