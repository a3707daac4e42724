"""README command 1 in miniature: the starter config on free ports, ``refund-hub serve`` (hub,
worker, janitor and the Shopify, WooCommerce, Magento, Stripe, PayPal and Square simulators) as a
real process tree,
and ``run_demo`` against it must report every scenario as expected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.cli.starter import MAGENTO_STORE, PORTS, STORE, write_starter
from hub.runtime.bootstrap import write_key_file
from hub.runtime.config import Config, load_config
from hub.sandbox.demo.run import run_demo
from hub.sandbox.demo.scenarios import SCENARIOS, Played
from tests.serving import free_ports, serving

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Config]:
    hub_port, *sim_ports = free_ports(1 + len(PORTS))
    path = tmp_path / "refund-hub.toml"
    write_starter(path, hub_port=hub_port, ports=dict(zip(PORTS, sim_ports, strict=True)))
    config = load_config(path, env={})
    write_key_file(config.hub.instance_path)
    with serving(path, config.hub.public_url):
        yield config


@pytest.mark.slow  # a whole `serve` process tree: 25-45 s on two shared cores
def test_the_demo_passes_against_serve_on_the_starter_config(
    served: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_demo(served, timeout=60)
    table = capsys.readouterr().out
    assert code == 0, table
    for expected in ("gateway:stripe", "gateway:paypal", "gateway:square", "platform", "review", "HTTP 401"):
        assert expected in table
    for expected in ("WooCommerce: paid with Stripe", "WooCommerce 0.00", "Adobe Commerce RMA", "Magento 0.00"):
        assert expected in table
    assert "✗" not in table


def test_the_starter_points_every_simulator_at_the_given_ports(tmp_path: Path) -> None:
    path = tmp_path / "refund-hub.toml"
    write_starter(path, host="127.0.0.1", hub_port=18000, ports={"stripe": 18111, "magento": 18103})
    config = load_config(path, env={})
    assert config.sandbox["ports"] == {**PORTS, "stripe": 18111, "magento": 18103}
    assert config.gateways["stripe"]["base_url"] == "http://127.0.0.1:18111"
    assert config.gateways["square"]["notification_url"] == "http://127.0.0.1:18000/webhooks/gateway/square"
    assert config.connectors["shopify"]["admin_url"] == "http://127.0.0.1:8101/store/{shop}"
    assert config.connectors["woocommerce"]["app_url"] == "http://127.0.0.1:18000"
    assert config.connectors["magento"]["io_events_key_host"] == "http://127.0.0.1:18103"
    assert set(config.stores) == {STORE, "http://127.0.0.1:8102", MAGENTO_STORE}
    assert config.stores[STORE].routes["shopify_payments"] == "platform"
    assert config.stores["http://127.0.0.1:8102"].routes["stripe"] == "gateway:stripe"
    assert config.stores[MAGENTO_STORE].settings["base_url"] == "http://127.0.0.1:18103"
    assert config.stores[MAGENTO_STORE].routes["squareup_payment"] == "gateway:square"
    again = tmp_path / "again.toml"
    write_starter(again)
    assert load_config(again, env={}).hub.admin_token != config.hub.admin_token  # secrets are per init
    with pytest.raises(ValueError, match="bigcommerce"):
        write_starter(tmp_path / "x.toml", ports={"bigcommerce": 1})


def test_the_demo_flags_what_did_not_end_as_expected() -> None:
    stripe = next(sc for sc in SCENARIOS if sc.label == "stripe" and sc.deliveries == 1)
    good = {"id": "rf_1", "state": "written_back", "route": "gateway:stripe", "gateway_refund_id": "re_1"}
    record = {"refunded": 0, "refunds": [{"amount": 0}]}
    assert Played(stripe, "gateway:stripe", "1", "pi_1", [good], record, stripe.amount).problems() == []

    twice = Played(stripe, "gateway:stripe", "1", "pi_1", [good, {**good, "id": "rf_2"}], record, stripe.amount)
    assert twice.problems() == ["2 hub refunds, expected 1"]
    shopify_paid_too = {"refunded": stripe.amount, "refunds": [{"amount": stripe.amount}]}
    assert Played(stripe, "gateway:stripe", "1", "pi_1", [good], shopify_paid_too, stripe.amount).problems()
    assert Played(stripe, "gateway:stripe", "1", "pi_1", [good], record, None).problems()  # gateway unreadable
    review = {**good, "state": "review", "gateway_refund_id": None}
    stuck = Played(stripe, "gateway:stripe", "1", "pi_1", [review], {"refunded": 0, "refunds": []}, 0).problems()
    assert stuck[0] == "state review, expected written_back"
    assert "stripe refunded 0, expected 4200" in stuck
