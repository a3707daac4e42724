"""The starter ``refund-hub.toml`` that ``refund-hub init`` writes: the embedded default with a
sandbox store and sandbox gateways on 127.0.0.1, so refunds visibly flow on a fresh machine."""

from __future__ import annotations

import secrets
from pathlib import Path

TEMPLATE = """\
# Refund Hub configuration — see docs/configuration.md for every key.
# Secrets can (and in production should) come from the environment instead:
#   REFUND_HUB_<SECTION>__<KEY>, e.g. REFUND_HUB_GATEWAYS__STRIPE__API_KEY.

[hub]
instance_path = "instance"            # SQLite database, queue and local key live here
public_url = "http://127.0.0.1:8000"  # where platforms reach the hub
admin_token = "{admin_token}"          # REFUND_HUB_ADMIN_TOKEN; Bearer token of /api/*
# database_url = "postgresql://user@host/db"   # scale-out (REFUND_HUB_DATABASE_URL)
# queue_url = "redis://127.0.0.1:6379/0"        # scale-out (REFUND_HUB_QUEUE_URL)

# Connectors that are enabled (installed is not enabled), with their app-level settings.
[connectors.sandbox]
webhook_secret = "{webhook_secret}"

# Gateway accounts; `type` defaults to the table name.
[gateways.sandbox]
type = "sandbox"
base_url = "http://127.0.0.1:8102"
api_key = "sandbox-key"
webhook_secret = "sandbox-gw-secret"

# A store: its connector, API settings, credentials (encrypted at rest) and payment routes.
[stores.sandbox-store]
connector = "sandbox"
settings = {{ api_url = "http://127.0.0.1:8101" }}
credentials = {{ token = "sandbox-token" }}
routes = {{ sandbox = "gateway:sandbox", platform = "platform" }}

# The shared policy every store uses unless it names another ([policies.<name>] or a file).
[policies.default]
version = "starter-1"
[policies.default.amounts]
review_above = 200        # approved automatically up to 200.00 (any currency); larger ones go to review
max_per_refund = 5000

# Simulators `refund-hub serve` starts next to the hub (the embedded default's outside world).
[sandbox]
enabled = true
host = "127.0.0.1"
[sandbox.ports]
sandbox-platform = 8101
sandbox-gateway = 8102
"""


def write_starter(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEMPLATE.format(admin_token=secrets.token_urlsafe(24), webhook_secret=secrets.token_urlsafe(24)))
