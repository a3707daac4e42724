"""``policy check`` warns per configured store about every rule whose input that store's platform
cannot supply, and a store setting that supplies it silences the warning."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from hub.cli.main import main
from hub.policy import DEFAULT_POLICY
from hub.policy.inputs import store_warnings

POLICY = """
[windows.default]
days = 30
start = "delivery"

[exclusions]
final_sale = true
tags = ["outlet"]

[digital]
max_downloads = false
activations = false
accessed = false
"""
CONFIG = """
[connectors.woocommerce]
[connectors.magento]
[connectors.shopify]
[stores."https://wc.example"]
connector = "woocommerce"
settings = { final_sale_meta = "_final_sale" }
[stores."m2.example"]
connector = "magento"
[stores."demo.myshopify.com"]
connector = "shopify"
"""


def test_policy_check_warns_per_store_for_inputs_its_platform_lacks(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "hub.toml").write_text(CONFIG)
    args = ["--config", str(tmp_path / "hub.toml"), "policy", "check", str(tmp_path / "policy.toml")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    warnings = sorted(line for line in result.stderr.splitlines() if line.startswith("warning:"))
    assert warnings == [
        "warning: store demo.myshopify.com (shopify): exclusions.final_sale needs the final sale: Shopify has no "
        "final-sale flag; name a product metafield (store setting final_sale_metafield); it is unknown there",
        "warning: store https://wc.example (woocommerce): windows.default needs the delivery date: WooCommerce "
        "records no delivery date; the window starts at fulfilment instead; it is unknown there",
        "warning: store m2.example (magento): exclusions.tags needs the product tags: Magento has no product tags; "
        "it is unknown there",
        "warning: store m2.example (magento): windows.default needs the delivery date: Magento records no delivery "
        "date; the window starts at the first shipment instead; it is unknown there",
    ]


def test_without_a_configuration_the_file_alone_is_checked(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(POLICY)
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path / "absent.toml"), "policy", "check", str(tmp_path / "policy.toml")]
    )
    assert result.exit_code == 0
    assert "warning:" not in result.stderr


def test_a_usage_provider_closes_the_activations_gap_and_woocommerce_counts_downloads() -> None:
    stores = [("w1", "woocommerce", {}), ("w2", "woocommerce", {"usage_providers": ["http"]})]
    warned = store_warnings(DEFAULT_POLICY, stores)
    assert [line for line in warned if "licence activations" in line] == [
        "store w1 (woocommerce): digital.activations needs the licence activations: no platform reports "
        "licence activations; name a usage provider (store setting usage_providers); it is unknown there"
    ]
    assert not [line for line in warned if "download count" in line]
