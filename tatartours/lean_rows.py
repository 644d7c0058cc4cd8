"""Model rows read and written with prebuilt SQL: the ORM's results, without its compiler.

Every chat message runs the same handful of statements (lock the session,
look for the client_id, insert the message, touch the session). Through the
ORM each costs ~0.5 ms of Python CPU to compile, against ~0.05 ms to execute
(measured: `select_for_update().get()` 0.68 ms, the same row by a cursor and
`Model.from_db` 0.25 ms, both including the round trip); on the message path
that was two thirds of the database thread's CPU (docs/benchmarks.md).

These helpers keep the model as the single description of the table: the
column lists come from `_meta`, values go through each field's
`get_db_prep_save` and come back through `from_db_value`, instances are made
by `Model.from_db`, so a field added later is handled without touching the
SQL here. They run on Django's own connection, inside the caller's
transaction; `on_commit` publishing works as with the ORM, and `insert` and
`update_fields` send `pre_save`/`post_save` as `Model.save` does (the
analytics app counts messages for /metrics from `post_save`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)


@cache
def _columns(model: type[Model]) -> tuple[str, list[str], list[Any]]:
    """SELECT list, attnames in the same order, and each field's `from_db_value` (or None)."""
    fields = model._meta.concrete_fields
    table = model._meta.db_table
    select = ", ".join(f'"{table}"."{f.column}"' for f in fields)
    converters = [getattr(f, "from_db_value", None) for f in fields]
    return select, [f.attname for f in fields], converters


def select_list(model: type[Model]) -> str:
    """Every concrete column of `model`, qualified by its table, for a hand-written SELECT."""
    return _columns(model)[0]


def row_to_instance(model: type[M], row: Sequence[Any]) -> M:
    """An instance from a row of `select_list(model)` (the first len(fields) values)."""
    _, attnames, converters = _columns(model)
    values = [
        convert(value, None, connection) if convert is not None and value is not None else value
        for convert, value in zip(converters, row[: len(attnames)], strict=True)
    ]
    return model.from_db(connection.alias, attnames, values)


def fetch_row(model: type[M], sql: str, params: Sequence[Any]) -> tuple[M, tuple[Any, ...]] | None:
    """Run `sql` (selecting `select_list(model)` first, then any extra columns) for one row.

    Returns the instance and the extra columns, or None for no row.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(_columns(model)[1])
    return row_to_instance(model, row), tuple(row[width:])


def fetch_optional(model: type[M], sql: str, params: Sequence[Any]) -> M | None:
    found = fetch_row(model, sql, params)
    return found[0] if found is not None else None


@cache
def _insert(model: type[Model]) -> tuple[str, list[Field[Any, Any]]]:
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    pk = meta.pk
    assert pk is not None
    sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES ({placeholders})'
    return f'{sql} RETURNING "{pk.column}"', fields


def insert(instance: Model) -> None:
    """`instance.save()` for a new row in one prebuilt INSERT; sets the pk (and auto_now_add)."""
    model = type(instance)
    sql, fields = _insert(model)
    using = connection.alias
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    params = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (instance.pk,) = cursor.fetchone()
    instance._state.adding = False
    instance._state.db = using
    post_save.send(
        sender=model, instance=instance, created=True, update_fields=None, raw=False, using=using
    )


def update_fields(instance: Model, names: Sequence[str]) -> None:
    """`instance.save(update_fields=names)` as one UPDATE by primary key."""
    meta, model, using = instance._meta, type(instance), connection.alias
    changed = frozenset(names)
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=changed)
    fields = [meta.get_field(name) for name in names]
    assignments = ", ".join(f'"{f.column}" = %s' for f in fields)  # type: ignore[union-attr]
    params = [
        f.get_db_prep_save(f.pre_save(instance, add=False), connection)  # type: ignore[union-attr]
        for f in fields
    ]
    pk = meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{meta.db_table}" SET {assignments} WHERE "{pk.column}" = %s',
            [*params, instance.pk],
        )
    post_save.send(
        sender=model,
        instance=instance,
        created=False,
        update_fields=changed,
        raw=False,
        using=using,
    )
