"""Declarative base and column types shared by every model."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar, overload

from sqlalchemy import JSON, DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use gateway.store.models.base.utcnow()")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON()}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@overload
def iso(value: dt.datetime, *, millis_z: bool = False) -> str: ...
@overload
def iso(value: None, *, millis_z: bool = False) -> None: ...
@overload
def iso(value: dt.datetime | None, *, millis_z: bool = False) -> str | None: ...
def iso(value: dt.datetime | None, *, millis_z: bool = False) -> str | None:
    """ISO 8601 in UTC, as every document and cursor shows times; ``None`` stays ``None``.

    ``millis_z`` gives the form Clever's LMS Connect expects (``2024-05-01T12:00:00.000Z``).
    """
    if value is None:
        return None
    utc = value.astimezone(dt.UTC)
    if millis_z:
        return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return utc.isoformat()


def new_id(prefix: str) -> str:
    """Opaque, prefixed ids (``usr_...``) so a stray id says what it names."""
    return f"{prefix}_{uuid.uuid4().hex}"
