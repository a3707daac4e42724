"""The starter ``refund-hub.toml`` that ``refund-hub init`` writes: the embedded default, a Shopify,
a WooCommerce and an Adobe Commerce store and the Stripe, PayPal and Square accounts, each served by
its simulator on 127.0.0.1, so refunds visibly flow on a fresh machine the way they will in production."""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Mapping
from pathlib import Path

STORE = "refund-hub-demo.myshopify.com"
MAGENTO_STORE = "refund-hub-demo-magento"
# Fixed simulator ports of the embedded default.
PORTS = {"shopify": 8101, "woocommerce": 8102, "magento": 8103, "stripe": 8111, "paypal": 8112, "square": 8113}

TEMPLATE = """\
# Refund Hub configuration — see docs/configuration.md for every key.
# Secrets can (and in production should) come from the environment instead:
#   REFUND_HUB_<SECTION>__<KEY>, e.g. REFUND_HUB_GATEWAYS__STRIPE__API_KEY.
# This starter points every platform and gateway at a local simulator (`[sandbox]` below):
# replace the simulator URLs and generated secrets with real ones to go live.

[hub]
instance_path = "instance"            # SQLite database, queue and local key live here
public_url = "{hub_url}"    # where platforms reach the hub
admin_token = "{admin_token}"    # REFUND_HUB_ADMIN_TOKEN; Bearer token of /api/*
# database_url = "postgresql://user@host/db"   # scale-out (REFUND_HUB_DATABASE_URL)
# queue_url = "redis://127.0.0.1:6379/0"        # scale-out (REFUND_HUB_QUEUE_URL)

# Connectors that are enabled (installed is not enabled), with their app-level settings.
[connectors.shopify]
api_key = "{shopify_key}"        # the app's client id
api_secret = "{shopify_secret}"  # client secret: signs webhooks, OAuth
app_url = "{hub_url}"
test_mode = true                 # simulators only: allows http:// and 127.0.0.1
admin_url = "http://{host}:{shopify_port}/store/{{shop}}"   # simulators only: stands in for https://{{shop}}

[connectors.woocommerce]
app_url = "{hub_url}"            # install and webhook delivery URLs
test_mode = true                 # simulators only: allows http:// and 127.0.0.1

[connectors.magento]
test_mode = true                 # simulators only: allows http:// and 127.0.0.1
allow_private_networks = true    # simulators only: an activation's store URL may be on 127.0.0.1
io_events_fetch_keys = true      # fetch Adobe I/O Events signing keys by the deliveries' key paths
io_events_key_host = "http://{host}:{magento_port}"   # simulators only: stands in for static.adobeioevents.com

# Gateway accounts; `type` defaults to the table name. Status webhooks: /webhooks/gateway/<account>.
[gateways.stripe]
api_key = "{stripe_key}"
webhook_secret = "{stripe_webhook_secret}"
base_url = "http://{host}:{stripe_port}"      # leave out for the real Stripe

[gateways.paypal]
client_id = "{paypal_client_id}"
client_secret = "{paypal_client_secret}"
webhook_id = "{paypal_webhook_id}"
environment = "sandbox"
base_url = "http://{host}:{paypal_port}"      # leave out for the real PayPal

[gateways.square]
access_token = "{square_token}"
webhook_signature_key = "{square_signature_key}"
notification_url = "{hub_url}/webhooks/gateway/square"   # exactly the subscription's URL
environment = "sandbox"
base_url = "http://{host}:{square_port}"      # leave out for the real Square

# A store: its connector, credentials (encrypted at rest) and payment routes. Shopify refunds
# what it processed itself; an order paid through an outside gateway is refunded there.
[stores."{store}"]
connector = "shopify"
credentials = {{ access_token = "{shopify_token}" }}
routes = {{ shopify_payments = "platform", stripe = "gateway:stripe", paypal = "gateway:paypal", \
square = "gateway:square" }}

# A WooCommerce store: its id is its home URL. A customer asks for a refund by moving the order to
# `refund_request_status`; routes match the order's payment_method.
[stores."http://{host}:{woocommerce_port}"]
connector = "woocommerce"
settings = {{ url = "http://{host}:{woocommerce_port}", refund_request_status = "refund-requested" }}
credentials = {{ consumer_key = "{woo_key}", consumer_secret = "{woo_secret}", \
webhook_secret = "{woo_webhook_secret}" }}
routes = {{ stripe = "gateway:stripe", ppcp-gateway = "gateway:paypal", square_credit_card = "gateway:square", \
bacs = "none", cod = "none", cheque = "none" }}

# An Adobe Commerce store pushing through Adobe I/O Events (RMAs); routes match the payment method code.
[stores."{magento_store}"]
connector = "magento"
settings = {{ base_url = "http://{host}:{magento_port}", edition = "commerce", \
io_events_provider_id = "{magento_provider}", io_events_client_id = "{magento_client}" }}
credentials = {{ consumer_key = "{magento_key}", consumer_secret = "{magento_secret}", \
access_token = "{magento_token}", access_token_secret = "{magento_token_secret}" }}
routes = {{ stripe_payments = "gateway:stripe", paypal_express = "gateway:paypal", \
squareup_payment = "gateway:square", checkmo = "none", banktransfer = "none" }}

# The shared policy every store uses unless it names another ([policies.<name>] or a file).
[policies.default]
version = "starter-1"
[policies.default.amounts]
review_above = 200        # approved automatically up to 200.00 (any currency); larger ones go to review
max_per_refund = 5000

# Simulators `refund-hub serve` starts next to the hub (the embedded default's outside world);
# each is built from the tables above, so keys, secrets and URLs agree.
[sandbox]
enabled = true
host = "{host}"
settle_after = 0.5        # seconds a simulated gateway refund stays pending
[sandbox.ports]
shopify = {shopify_port}
woocommerce = {woocommerce_port}
magento = {magento_port}
stripe = {stripe_port}
paypal = {paypal_port}
square = {square_port}
"""


def write_starter(
    path: Path,
    *,
    host: str = "127.0.0.1",
    hub_port: int = 8000,
    ports: Mapping[str, int] | None = None,
) -> None:
    """Write the starter to ``path`` with fresh secrets. ``host``, ``hub_port`` and ``ports``
    (simulator name -> port, over ``PORTS``) let tests run it on free ports."""
    chosen = {**PORTS, **(ports or {})}
    unknown = set(chosen) - set(PORTS)
    if unknown:
        raise ValueError(f"unknown simulators {sorted(unknown)}; the starter has {sorted(PORTS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        TEMPLATE.format(
            host=host,
            hub_url=f"http://{host}:{hub_port}",
            store=STORE,
            admin_token=_secret(),
            shopify_key=secrets.token_hex(16),
            shopify_secret=_secret(),
            shopify_token=f"shpat_{secrets.token_hex(16)}",
            stripe_key=f"sk_test_{_secret()}",
            stripe_webhook_secret=f"whsec_{_secret()}",
            paypal_client_id=_secret(),
            paypal_client_secret=_secret(),
            paypal_webhook_id=_paypal_id(),
            square_token=f"EAAA{_secret()}",
            square_signature_key=_secret(),
            woo_key=f"ck_{secrets.token_hex(20)}",
            woo_secret=f"cs_{secrets.token_hex(20)}",
            woo_webhook_secret=secrets.token_hex(16),  # WooCommerce webhook secrets are alphanumeric
            magento_store=MAGENTO_STORE,
            magento_provider=uuid.uuid4(),
            magento_client=uuid.uuid4().hex,
            magento_key=_token32(),
            magento_secret=_token32(),
            magento_token=_token32(),
            magento_token_secret=_token32(),
            **{f"{name}_port": port for name, port in chosen.items()},
        )
    )


def _secret() -> str:
    return secrets.token_urlsafe(24)


def _token32() -> str:
    """Magento integration keys and tokens are 32 lower-case letters and digits."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(32))


def _paypal_id() -> str:
    """PayPal webhook ids are 17 upper-case letters and digits."""
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17))
