"""Django's PostgreSQL backend, failing fast while this process knows PostgreSQL is down.

Every DB hop of the process, wherever it comes from (actions, the AI's
tools, views), gets its connection here. While `tatartours.db_health`
says the database is down, a hop raises `DatabaseUnavailable` at once
instead of waiting a full pool timeout on the one DB thread, where every
hop queued behind it would wait too. A checkout that fails marks it down.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base

from tatartours import db_health


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        if db_health.health.down:
            raise db_health.DatabaseUnavailable("PostgreSQL is unavailable")
        try:
            return super().get_new_connection(conn_params)
        except Exception as error:
            if db_health.is_outage(error):
                db_health.health.mark_down(error)
            raise
