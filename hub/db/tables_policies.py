"""Policies edited in the console: every published version of a store's policy (append-only, the
newest is live) and the one working draft per store, with its shadow and its pending proposal.

A version's ``body`` is the TOML text exactly as published, so what the merchant reads in the
history is what the pipeline ran."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text, UniqueConstraint

from hub.db.tables import Timestamp, metadata

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector", String(64), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("number", Integer, nullable=False),  # 1, 2, 3 … per store; the highest is live
    Column("body", Text, nullable=False),  # TOML as published
    Column("label", String(255), nullable=False),  # Policy.version: '<version>+<content hash>'
    Column("note", Text, nullable=False, default=""),
    Column("source", String(16), nullable=False),  # file (the configuration's policy) | console
    Column("published_by", String(320), nullable=False),  # the maker (actor)
    Column("checked_by", String(320)),  # the second person, when the store requires two
    Column("published_at", Timestamp, nullable=False),
    # two publishers racing for the same number: one wins, the other is told
    UniqueConstraint("connector", "store_id", "number", name="uq_policy_versions_store_number"),
)

policy_drafts = Table(
    "policy_drafts",
    metadata,
    Column("connector", String(64), primary_key=True),
    Column("store_id", String(255), primary_key=True),
    Column("body", Text, nullable=False),
    Column("updated_by", String(320), nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # shadow: a snapshot decided beside the live policy on refunds decided from shadow_since on
    Column("shadow_body", Text),
    Column("shadow_since", Timestamp),
    Column("shadow_by", String(320)),
    # maker-checker: the exact text a first person asked to publish, waiting for a second
    Column("proposed_body", Text),
    Column("proposed_by", String(320)),
    Column("proposed_user", String(32)),
    Column("proposed_at", Timestamp),
    Column("proposed_note", Text),
)
