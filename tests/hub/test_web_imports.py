"""A web worker needs no gateway or platform SDK: a fresh interpreter that builds the web app on
the starter configuration and verifies real signed webhooks (a Shopify one, a Stripe, a Square
status webhook) and renders the console's login page must not have imported any SDK's client.

Each SDK is imported on first use by the calls that need it (``gateways/*/client.py``,
``connectors/*/client.py``), in the worker. This test fails when an eager import comes back.
The same goes for the heavy libraries a web worker loads only when it needs them (``LAZY``,
issue 18: each costs megabytes of every worker, bench/memory.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Modules of the SDKs' clients: a web process must have none of them (prefixes: a package and
# everything below it). Square's and PayPal's packages keep light leaves (enums, exceptions) out
# of this list; their clients, models and configuration are on it.
FORBIDDEN = (
    "stripe",
    "square.client",
    "square.core.api_error",
    "square.refunds",
    "paypalserversdk.paypal_serversdk_client",
    "paypalserversdk.configuration",
    "paypalserversdk.models",
    "apimatic_core.http",
    "shopify",  # ShopifyAPI
    "shopify_app",
    "woocommerce",
    "requests_oauthlib",
)
# Loaded on first use, and a web worker serving webhooks and the console's login has none: the CEL
# runtime and protobuf (a policy's custom rules, ``hub/policy/cel.py``), cryptography (a secret
# sealed or opened, ``hub/runtime/crypto.py``; a Magento signature, ``connectors/magento/keys.py``).
LAZY = ("cel_expr_python", "google.protobuf", "cryptography")

SCRIPT = r"""
import hashlib, hmac, json, sys, time
from pathlib import Path
from hub.cli.starter import STORE, write_starter
from hub.runtime.bootstrap import write_key_file
from hub.runtime.config import load_config
from hub.testing.signing import hmac_base64

folder = Path(sys.argv[1])
path = folder / "refund-hub.toml"
if sys.argv[3] == "prepare":  # what serve does before it starts its web workers, in its own process
    write_starter(path, hub_port=1, ports={name: 2 + i for i, name in enumerate(
        ("shopify", "woocommerce", "magento", "stripe", "paypal", "square"))})
    config = load_config(path, env={})
    write_key_file(config.hub.instance_path)
    from hub.runtime.bootstrap import prepare_database
    prepare_database(config)
    sys.exit(0)
config = load_config(path, env={})
before = set(sys.modules)
from hub.web.app import create_app
app = create_app(config, migrate=False)  # as serve's web workers make it
client = app.test_client()
answers = {}
body = Path(sys.argv[2]).read_bytes()
answers["shopify"] = client.post("/webhooks/shopify", data=body, headers={
    "Content-Type": "application/json",
    "X-Shopify-Hmac-Sha256": hmac_base64(config.connectors["shopify"]["api_secret"], body),
    "X-Shopify-Topic": "refunds/create", "X-Shopify-Shop-Domain": STORE,
    "X-Shopify-Webhook-Id": "imports-1"}).status_code
event = json.dumps({"id": "evt_imports", "type": "charge.refund.updated", "object": "event",
                    "data": {"object": {"id": "re_1", "object": "refund", "status": "succeeded"}}}).encode()
stamp = str(int(time.time()))
secret = config.gateways["stripe"]["webhook_secret"].encode()
v1 = hmac.new(secret, stamp.encode() + b"." + event, hashlib.sha256).hexdigest()
answers["stripe"] = client.post("/webhooks/gateway/stripe", data=event, headers={
    "Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={v1}"}).status_code
square = config.gateways["square"]
refund = {"refund": {"id": "r", "status": "COMPLETED"}}
note = json.dumps({"event_id": "sq-imports", "type": "refund.updated", "merchant_id": "M",
                   "data": {"type": "refund", "id": "r", "object": refund}}).encode()
answers["square"] = client.post("/webhooks/gateway/square", data=note, headers={
    "Content-Type": "application/json",
    "x-square-hmacsha256-signature": hmac_base64(square["webhook_signature_key"],
                                                 square["notification_url"].encode() + note)}).status_code
answers["login"] = client.get("/login").status_code
print(json.dumps({"answers": answers, "modules": sorted(set(sys.modules) - before), "all": sorted(sys.modules)}))
"""


def _forbidden(module: str, names: tuple[str, ...] = FORBIDDEN) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def test_a_web_app_verifying_webhooks_imports_no_sdk_client(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFUND_HUB_")}
    env["PYTHONPATH"] = str(ROOT)
    fixture = ROOT / "tests" / "fixtures" / "shopify" / "webhook_refunds_create.json"
    for step in ("prepare", "serve"):
        run = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path), str(fixture), step],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr[-4000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["answers"] == {"shopify": 200, "stripe": 200, "square": 200, "login": 200}, report["answers"]
    modules = report["modules"]
    assert "hub.web.app" in modules
    assert "gateways.stripe.gateway" in modules
    imported = sorted(m for m in modules if _forbidden(m))
    assert imported == [], f"the web app imported SDK client modules: {imported[:20]}"
    heavy = sorted(m for m in report["all"] if _forbidden(m, LAZY))
    assert heavy == [], f"the web process imported libraries it loads only on first use: {heavy[:20]}"


def test_the_check_sees_an_sdk_when_one_is_imported() -> None:
    assert _forbidden("stripe")
    assert _forbidden("stripe._refund")
    assert _forbidden("paypalserversdk.models.money")
    assert not _forbidden("stripe_like")
    assert not _forbidden("square.utils.webhooks_helper")
    assert _forbidden("google.protobuf.timestamp_pb2", LAZY)
    assert not _forbidden("google", LAZY)
