"""Model rows read and written with prebuilt SQL: the ORM's results, without its compiler.

Every chat message runs the same handful of statements (lock the session,
look for the client_id, insert the message, touch the session). Through the
ORM each costs ~0.5 ms of Python CPU to compile, against ~0.05 ms to execute
(measured: `select_for_update().get()` 0.68 ms, the same row by a cursor and
`Model.from_db` 0.25 ms, both including the round trip; `save()` of a new
message plus `save(update_fields=...)` of its session 1.4-2.1 ms against
0.7-1.5 ms here); on the message path that was two thirds of the database
thread's CPU (docs/benchmarks.md).

The model stays the single description of the table, through Django's
public model and field API only: column names come from `_meta` (`column`,
`select_list`), values go through each field's `pre_save` and
`get_db_prep_save` and come back through `from_db_value`, and instances are
made by `Model.from_db`, which sets their state as any query would (an
insert returns the stored row as a new instance). They run on Django's own
connection, inside the caller's transaction, so `on_commit` publishing works
as with the ORM. No model signal is sent: an action that writes here calls
its own hooks (the message counters: `chat.hooks.instrumentation()`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import NOT_PROVIDED, Field, Model

M = TypeVar("M", bound=Model)


@cache
def _columns(model: type[Model]) -> tuple[str, list[str], list[Any]]:
    """SELECT list, attnames in the same order, and each field's `from_db_value` (or None)."""
    fields = model._meta.concrete_fields
    table = model._meta.db_table
    select = ", ".join(f'"{table}"."{f.column}"' for f in fields)
    converters = [getattr(f, "from_db_value", None) for f in fields]
    return select, [f.attname for f in fields], converters


def column(model: type[Model], name: str) -> str:
    """The column of field `name` (a field name or attname), qualified by its table."""
    field = model._meta.get_field(name)
    db_column = getattr(field, "column", None)
    if db_column is None:
        raise ValueError(f"{model.__name__}.{name} has no column")
    return f'"{model._meta.db_table}"."{db_column}"'


def column_name(model: type[Model], name: str) -> str:
    """The column of field `name`, quoted, not qualified (for a table under an alias)."""
    field = model._meta.get_field(name)
    db_column = getattr(field, "column", None)
    if db_column is None:
        raise ValueError(f"{model.__name__}.{name} has no column")
    return f'"{db_column}"'


def column_type(model: type[Model], name: str) -> str:
    """The database type of field `name`'s column (for a key: the type that refers to it)."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    # Field.rel_db_type is public (Django's "Writing custom model fields"); the stubs lack it.
    refer = field.rel_db_type if field.primary_key else field.db_type  # type: ignore[attr-defined]
    found = refer(connection)
    if found is None:
        raise ValueError(f"{model.__name__}.{name} has no column type")
    return found


def table(model: type[Model]) -> str:
    return f'"{model._meta.db_table}"'


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
    sql = f"INSERT INTO {table(model)} ({columns}) VALUES ({placeholders})"
    return f"{sql} RETURNING {select_list(model)}", fields


def insert(instance: M) -> M:
    """Store the unsaved `instance` in one prebuilt INSERT; returns the stored row.

    The row comes back whole (RETURNING every column) as a new instance made
    by `Model.from_db`, with its primary key and `auto_now_add` values;
    `instance` itself stays unsaved. Related objects are not cached on the
    returned row: assign the ones a caller reads again (`row.session = ...`).
    """
    model = type(instance)
    sql, fields = _insert(model)
    params = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None
    return row_to_instance(model, row)


def update_fields(instance: Model, names: Sequence[str]) -> None:
    """Write the fields `names` of a stored `instance` in one UPDATE by primary key."""
    meta = instance._meta
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
            f'UPDATE {table(type(instance))} SET {assignments} WHERE "{pk.column}" = %s',
            [*params, instance.pk],
        )


def insert_select(model: type[Model], given: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    """The column list and SELECT list of an `INSERT ... SELECT` of one new `model` row.

    `given` maps field names to SQL expressions written by the caller (a
    CTE's column, a `%(name)s` parameter); every other concrete column gets
    the value a new instance would save (its field's default, through
    `pre_save` and `get_db_prep_save`), as a `%(default_<column>)s`
    parameter returned in the dict. Each value is cast to its column's type:
    in an INSERT ... SELECT, PostgreSQL types an untyped parameter as text.
    """
    template = model()
    columns: list[str] = []
    values: list[str] = []
    defaults: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        db_type = field.db_type(connection)
        if field.name in given:
            expression = given[field.name]
        else:
            value = field.get_db_prep_save(field.pre_save(template, add=True), connection)
            if value is None and field.db_default is NOT_PROVIDED:
                # Left out: the column has no database default (Django sets none
                # without db_default), so PostgreSQL stores NULL, as the ORM would.
                # A shorter statement stays within psycopg's query cache (4,096
                # bytes), which a long one misses on every execute.
                continue
            name = f"default_{field.column}"
            defaults[name] = value
            expression = f"%({name})s"
        columns.append(f'"{field.column}"')
        values.append(f"CAST({expression} AS {db_type})")
    missing = set(given) - {f.name for f in model._meta.concrete_fields}
    if missing:
        raise ValueError(f"{model.__name__} has no columns {sorted(missing)}")
    return ", ".join(columns), ", ".join(values), defaults
