"""What each role may do. A token's scopes are a subset of its owner's role, checked on every use
(a role lowered later lowers every token of the user with it)."""

from __future__ import annotations

READ = "refunds:read"
REVIEW = "refunds:review"
COMMENT = "refunds:comment"
DELIVERIES = "deliveries:read"
REPLAY = "deliveries:replay"
POLICIES_READ = "policies:read"
POLICIES_WRITE = "policies:write"
STORES = "stores:read"
USERS = "users:manage"
ANALYTICS = "analytics:read"
EXPORTS = "exports:read"

EVERY_SCOPE = frozenset(
    {READ, REVIEW, COMMENT, DELIVERIES, REPLAY, POLICIES_READ, POLICIES_WRITE, STORES, USERS, ANALYTICS, EXPORTS}
)
PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": EVERY_SCOPE,
    "approver": frozenset({READ, REVIEW, COMMENT, DELIVERIES, REPLAY, POLICIES_READ, STORES, ANALYTICS}),
    "support": frozenset({READ, COMMENT, DELIVERIES, STORES}),
    "analyst": frozenset({READ, ANALYTICS, POLICIES_READ, STORES, EXPORTS}),  # read-only
}
ROLES = tuple(PERMISSIONS)


def permissions(role: str) -> frozenset[str]:
    return PERMISSIONS.get(role, frozenset())
