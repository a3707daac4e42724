"""hub.models.times: vendor timestamps read as aware datetimes, anything else as None."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hub.models.times import parse_rfc3339


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-02-19T21:34:41.851Z", datetime(2020, 2, 19, 21, 34, 41, 851000, tzinfo=UTC)),
        ("2018-06-21T13:35:44.000Z", datetime(2018, 6, 21, 13, 35, 44, tzinfo=UTC)),
        ("2026-01-25T18:25:34-08:00", datetime(2026, 1, 25, 18, 25, 34, tzinfo=timezone(timedelta(hours=-8)))),
    ],
)
def test_vendor_timestamps(text: str, expected: datetime) -> None:
    assert parse_rfc3339(text) == expected


@pytest.mark.parametrize("value", [None, 1700000000, "", "yesterday", "2026-01-25T18:25:34", ["2026-01-25"]])
def test_what_is_no_timestamp_is_none(value: object) -> None:
    assert parse_rfc3339(value) is None  # a local time without a zone is no point in time either
