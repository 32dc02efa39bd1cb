"""The one paging cursor: what it carries comes back typed; anything it did not make is ``INVALID_CURSOR``."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from gateway.api.cursor import Cursor, InvalidCursor
from gateway.store.models.base import iso

WHEN = dt.datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)


def _raw(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("cursor", "key"),
    [
        (Cursor("a.list"), ("reg_1",)),
        (Cursor("a.list", (str, str)), ("usr_1", "teacher")),
        (Cursor("a.list", (int,)), (42,)),
        (Cursor("a.list", (dt.datetime, str)), (WHEN, "asg_1")),
    ],
    ids=["id", "pair", "seq", "time-and-id"],
)
def test_a_cursor_gives_back_its_key(cursor: Cursor, key: tuple[object, ...]) -> None:
    token = cursor.encode(*key)
    assert "=" not in token and token.isascii()
    assert cursor.decode(token) == key


def test_no_cursor_is_the_first_page() -> None:
    assert Cursor("a.list").decode(None) is None
    assert Cursor("a.list").decode("") is None


@pytest.mark.parametrize(
    "token",
    [
        "!!",
        "not-base64-json",
        _raw({"v": 1}),
        _raw(["reg_1"]),  # the old identity and Clever shape: no version, no list
        _raw([2, "a.list", "reg_1"]),  # a version this gateway does not know
        _raw([1, "another.list", "reg_1"]),  # another list's cursor
        _raw([1, "a.list"]),
        _raw([1, "a.list", "reg_1", "extra"]),
        _raw([1, "a.list", 7]),
        _raw([1, "a.list", ""]),
    ],
)
def test_what_the_codec_did_not_make_is_refused(token: str) -> None:
    with pytest.raises(InvalidCursor) as refused:
        Cursor("a.list").decode(token)
    assert (refused.value.code, refused.value.status) == ("INVALID_CURSOR", 400)


@pytest.mark.parametrize(
    ("parts", "value"),
    [((int,), True), ((int,), "7"), ((dt.datetime,), "yesterday"), ((dt.datetime,), 7)],
    ids=["bool-for-int", "str-for-int", "bad-time", "int-for-time"],
)
def test_a_key_of_the_wrong_type_is_refused(parts: tuple[type, ...], value: object) -> None:
    with pytest.raises(InvalidCursor):
        Cursor("a.list", parts).decode(_raw([1, "a.list", value]))


def test_encoding_a_key_of_the_wrong_shape_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        Cursor("a.list", (int,)).encode("7")
    with pytest.raises(TypeError):
        Cursor("a.list").encode("a", "b")


def test_iso_is_utc_and_keeps_none() -> None:
    two_hours_east = dt.timezone(dt.timedelta(hours=2))
    assert iso(WHEN.astimezone(two_hours_east)) == "2026-05-01T12:30:15.123456+00:00"
    assert iso(WHEN, millis_z=True) == "2026-05-01T12:30:15.123Z"
    assert iso(None) is None
