"""Create the database named in DATABASE_URL if it does not exist yet.

`make run` calls this before `migrate`, so a fresh machine needs no psql.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import dj_database_url
import psycopg
from psycopg import sql


def main() -> int:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tatartours")
    config = dj_database_url.parse(url)
    name = config["NAME"]
    connect_args: dict[str, Any] = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
        "connect_timeout": 5,
    }
    try:
        with psycopg.connect(**connect_args, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists:
                print(f"Database {name!r} exists.")
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"Created database {name!r}.")
    except psycopg.OperationalError as error:
        print(f"Cannot reach PostgreSQL at {url}: {error}", file=sys.stderr)
        print("Start it (see README: Requirements) and run again.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
