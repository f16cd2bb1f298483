"""Event-store settings for a service's eventsourcing Application, in either run mode.

Embedded: one SQLite file per service under the data directory. Distributed: PostgreSQL, one
schema per service. Either way the stored state of every event is AES-encrypted (the personal
numbers inside events are encrypted at rest) and the schema/table is created on first use.
"""

import os

from kernel.config import Settings

# psycopg's C build blocks eventlet's hub; the pure-Python build cooperates with it.
os.environ.setdefault("PSYCOPG_IMPL", "python")
CIPHER_TOPIC = "eventsourcing.cryptography:AESCipher"


def application_env(settings: Settings, service: str, create=True) -> dict:
    """The eventsourcing environment of a service's store; ``create=False`` (for readers such as
    the auditor tools) creates nothing and refuses a store that is not there."""
    env = {
        "CIPHER_TOPIC": CIPHER_TOPIC,
        "CIPHER_KEY": settings.cipher_key,
        "CREATE_TABLE": "y",
    }
    if settings.event_store == "postgres":
        if create:
            ensure_postgres_schema(settings, service)
        env.update(
            {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": settings.postgres_db,
                "POSTGRES_HOST": settings.postgres_host,
                "POSTGRES_PORT": settings.postgres_port,
                "POSTGRES_USER": settings.postgres_user,
                "POSTGRES_PASSWORD": settings.postgres_password or "unused",
                "POSTGRES_SCHEMA": service,
                "POSTGRES_POOL_SIZE": "5",
            }
        )
    elif settings.event_store == "sqlite":
        path = settings.data_dir / f"{service}.sqlite"
        if create:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        elif not path.is_file():
            raise FileNotFoundError(f"no event store for {service} at {path}")
        env.update({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})
    else:
        raise ValueError(f"EVENT_STORE must be sqlite or postgres, not {settings.event_store!r}")
    return env


def postgres_conninfo(settings: Settings, dbname=None):
    parts = {
        "host": settings.postgres_host,
        "port": settings.postgres_port,
        "user": settings.postgres_user,
        "dbname": dbname or settings.postgres_db,
    }
    if settings.postgres_password:
        parts["password"] = settings.postgres_password
    return " ".join(f"{k}={v}" for k, v in parts.items())


def ensure_postgres_schema(settings: Settings, schema: str):
    """Create the database (if this role may) and the service's schema, idempotently."""
    import psycopg
    from psycopg import sql

    try:
        psycopg.connect(postgres_conninfo(settings), autocommit=True).close()
    except psycopg.OperationalError as missing:
        if "does not exist" not in str(missing):
            raise
        with psycopg.connect(postgres_conninfo(settings, "postgres"), autocommit=True) as conn:
            try:
                conn.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings.postgres_db))
                )
            except psycopg.errors.DuplicateDatabase:
                pass
    with psycopg.connect(postgres_conninfo(settings), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
