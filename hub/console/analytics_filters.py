"""The analytics pages' filters — a store, a period, a platform — read from the query string into
a ``Slice`` of the ledger within the person's stores. A value the person could not have chosen
(a store not theirs, a date that is no date, a period backwards or longer than the longest) is a
``FilterError`` the page shows, never an empty or a wrong figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hub.ledger.analytics import Slice
from hub.ledger.people import StoreScope
from hub.ledger.views import StoreSummary

DEFAULT_DAYS = 30
LONGEST_DAYS = 400  # a year and a bit: a year against the one before is what people compare
DAILY_UP_TO = 62  # longer periods are drawn per week


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Filters:
    since: date  # first day, inclusive
    until: date  # last day, inclusive
    store: tuple[str, str] | None = None  # (connector, store id)
    platform: str | None = None

    @property
    def bucket(self) -> str:
        return "day" if (self.until - self.since).days < DAILY_UP_TO else "week"

    def slice(self, scope: StoreScope) -> Slice:
        start = datetime.combine(self.since, datetime.min.time(), UTC)
        end = datetime.combine(self.until + timedelta(days=1), datetime.min.time(), UTC)
        connector, store_id = self.store if self.store else (self.platform, None)
        return Slice(start, end, scope, store_id=store_id, connector=connector)

    def query(self) -> dict[str, str]:
        """The filters as query arguments, for links to the other pages and the CSV downloads."""
        found = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        if self.store:
            found["store"] = ":".join(self.store)
        if self.platform:
            found["platform"] = self.platform
        return found

    def describe(self) -> str:
        where = "all your stores"
        if self.store:
            where = f"store {self.store[1]}"
        elif self.platform:
            where = f"your {self.platform} stores"
        return f"{where}, {self.since.isoformat()} to {self.until.isoformat()} (UTC)"


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FilterError(f"{name} {raw!r} is not a date (YYYY-MM-DD)") from None


def read_filters(args: Mapping[str, str], stores: Sequence[StoreSummary], today: date) -> Filters:
    """The filters of ``args``; ``stores`` are the person's (a store or platform outside them is
    refused by name, so a guessed id says nothing about another tenant)."""
    until = _day(args["until"], "until") if args.get("until") else today
    since = _day(args["since"], "since") if args.get("since") else until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise FilterError(f"the period starts ({since}) after it ends ({until})")
    if (until - since).days >= LONGEST_DAYS:
        raise FilterError(f"choose a period of at most {LONGEST_DAYS} days")
    store = None
    if args.get("store"):
        connector, _, store_id = args["store"].rpartition(":")
        mine = {(s.connector, s.store_id) for s in stores}
        matches = [(c, s) for c, s in mine if (c, s) == (connector, store_id) or (not connector and s == store_id)]
        if len(matches) != 1:
            raise FilterError(f"{args['store']!r} is not one of your stores")
        store = matches[0]
    platform = args.get("platform") or None
    if platform is not None and platform not in {s.connector for s in stores}:
        raise FilterError(f"none of your stores is on the platform {platform!r}")
    return Filters(since, until, store, platform)
