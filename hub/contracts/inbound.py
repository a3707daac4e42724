"""What the web layer hands a connector, and what a verified delivery looks like."""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

_T = TypeVar("_T")


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only header map (platforms differ in header case)."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): v for k, v in (items or {}).items()}

    @classmethod
    def lowercase(cls, items: dict[str, str]) -> Headers:
        """Adopt a dict whose keys are lower-case already (the web layer builds one per request)."""
        headers = cls.__new__(cls)
        headers._items = items
        return headers

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str | _T) -> str | _T: ...
    def get(self, key: str, default: object = None) -> object:  # one lookup, not Mapping's try/except
        return self._items.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def items(self) -> ItemsView[str, str]:
        return self._items.items()  # the stored (lower-case) pairs, without a lookup per key


@dataclass(frozen=True)
class Inbound:
    """A webhook exactly as received: raw bytes are what signatures cover."""

    headers: Headers
    body: bytes
    content_type: str = ""
    query: Mapping[str, str] = field(default_factory=dict)
    url: str = ""


@dataclass(frozen=True)
class Verified:
    """An authentic delivery: which store it is for, its topic, and how to spot a duplicate.

    ``ack_only`` marks deliveries that are answered 200 and stored for the record but produce
    no work (a WooCommerce creation ping).
    """

    store_id: str
    topic: str
    dedupe_key: str
    ack_only: bool = False


@dataclass(frozen=True)
class Delivery:
    """A stored delivery, as the worker reads it back."""

    id: str
    connector: str
    store_id: str
    topic: str
    headers: Headers
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass(frozen=True)
class Notice:
    """What ``parse`` extracts from a delivery: enough to re-read the truth with ``fetch``.

    kind is ``requested`` (someone asks for money back), ``recorded`` (a refund exists on the
    platform), ``ignored``, ``uninstalled`` (the store removed the app), ``redact`` (erase a
    customer's data — hints ``customer_id``/``email``/``order_ids`` — or, with ``whole_store``,
    the store's) or ``data_request`` (report what the hub holds on that customer; hint
    ``data_request_id``). ``hints`` carries connector-private details (ids, timestamps).
    """

    kind: str
    store_id: str
    topic: str
    order_id: str | None = None
    source_ref: str | None = None
    hints: Mapping[str, Any] = field(default_factory=dict)
