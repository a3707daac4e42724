"""Tenancy in the queries: the scope clause selects exactly the stores a person was granted, on
both databases, whatever mix of single stores and whole connectors the grants make."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select

from hub.ledger.people import ALL_STORES, EVERY, StoreScope

ROWS = [("shopify", "a"), ("shopify", "b"), ("woocommerce", "a"), ("woocommerce", "c"), ("magento", "m")]


@pytest.fixture
def table(any_engine: Any) -> Any:
    metadata = MetaData()
    found = Table("scope_probe", metadata, Column("connector", String(16)), Column("store_id", String(16)))
    metadata.drop_all(any_engine)
    metadata.create_all(any_engine)
    with any_engine.begin() as conn:
        conn.execute(insert(found), [{"connector": c, "store_id": s} for c, s in ROWS])
    yield found
    metadata.drop_all(any_engine)


@pytest.mark.parametrize(
    "grants",
    [
        set(),
        {("shopify", "a")},
        {("shopify", "a"), ("woocommerce", "a")},  # the same store id on two platforms is two stores
        {("shopify", EVERY), ("woocommerce", "c")},
        {("shopify", EVERY), ("shopify", "a")},  # a whole connector covers its single grants
        {("magento", "m"), ("woocommerce", EVERY), ("shopify", "b")},
    ],
)
def test_the_clause_selects_exactly_the_granted_stores(
    any_engine: Any, table: Any, grants: set[tuple[str, str]]
) -> None:
    scope = StoreScope(stores=frozenset(grants))
    with any_engine.connect() as conn:
        found = set(
            conn.execute(
                select(table.c.connector, table.c.store_id).where(scope.clause(table.c.connector, table.c.store_id))
            )
        )
    assert found == {row for row in ROWS if scope.allows(*row)}
    assert found == {(c, s) for c, s in ROWS if (c, s) in grants or (c, EVERY) in grants}


def test_everything_sees_every_store(any_engine: Any, table: Any) -> None:
    with any_engine.connect() as conn:
        found = conn.execute(select(table.c.store_id).where(ALL_STORES.clause(table.c.connector, table.c.store_id)))
        assert len(found.all()) == len(ROWS)
