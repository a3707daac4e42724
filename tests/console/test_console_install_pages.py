"""Onboarding a store from a browser: the install forms, Magento's setup page and the one error
shape (JSON for programs, the same code and message as a page for a browser), in the real hub app
with the three platform connectors mounted; screenshots in real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.testing.harness import HubHarness
from tests.console.conftest import Shots

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubHarness]:
    harness = HubHarness(
        tmp_path,
        connectors={
            "shopify": {"api_key": "key", "api_secret": "secret", "app_url": "https://hub.example.com"},
            "woocommerce": {"app_url": "https://hub.example.com"},
            "magento": {},
        },
    )
    try:
        yield harness
    finally:
        harness.close()


def test_each_install_start_without_a_store_is_a_form(hub: HubHarness) -> None:
    for path, field in (("/install/shopify", "shop"), ("/install/woocommerce", "store_url")):
        answer = hub.client.get(path, headers=BROWSER)
        assert answer.status_code == 200
        assert answer.mimetype == "text/html"
        assert f'name="{field}"' in answer.text
        assert "console.css" in answer.text  # served by the hub itself, no CDN


def test_a_bad_store_is_the_form_again_for_a_browser_and_json_for_a_program(hub: HubHarness) -> None:
    cases = (
        ("/install/shopify?shop=evil.example.com", "invalid_shop"),
        ("/install/woocommerce?store_url=ftp://shop", "invalid_store_url"),
    )
    for url, code in cases:
        page = hub.client.get(url, headers=BROWSER)
        assert page.status_code == 400
        assert 'id="install-error"' in page.text
        program = hub.client.get(url)
        assert program.status_code == 400
        assert program.json["error"] == code
        assert program.json["message"]


def test_magento_setup_lists_the_urls_to_paste(hub: HubHarness) -> None:
    answer = hub.client.get("/install/magento", base_url="https://hub.example.com")
    assert answer.status_code == 200
    for url in ("/install/magento/callback", "/install/magento/identity", "/webhooks/magento"):
        assert f'value="https://hub.example.com{url}"' in answer.text


def test_errors_share_one_shape_and_machines_always_get_json(hub: HubHarness) -> None:
    gone = hub.client.get("/install/magento/identity?oauth_consumer_key=nope", headers=BROWSER)
    assert gone.status_code == 404
    assert 'id="problem-message"' in gone.text
    assert "choose Activate again" in gone.text
    assert hub.client.get("/install/magento/identity?oauth_consumer_key=nope").json["error"] == "not_found"
    unknown = hub.client.get("/install/woocommerce/return?store=x&user_id=y")
    assert (unknown.status_code, unknown.json["error"]) == (403, "unknown_install")
    for path in ("/api/refunds/nope", "/api/nothing-here"):
        answer = hub.client.get(path, headers={**BROWSER, "Authorization": "Bearer test-admin-token"})
        assert answer.mimetype == "application/json"  # the API answers JSON whatever a client prefers
        assert set(answer.json) == {"error", "message"}


def test_install_pages_in_chromium(hub: HubHarness, browse: Any, shots: Shots) -> None:
    base = hub.url
    assert requests.get(f"{base}/install/shopify", timeout=5).status_code == 200
    for width, suffix in ((1280, ""), (390, "-phone")):
        page = browse(width=width)
        page.goto(f"{base}/install/shopify")
        page.get_by_label("Your store's Shopify address").fill("not a shop")
        page.get_by_role("button", name="Continue to Shopify").click()
        page.wait_for_selector("#install-error")
        assert page.get_by_label("Your store's Shopify address").input_value() == "not a shop"
        shots(page, f"install-shopify-error{suffix}")
        page.goto(f"{base}/install/woocommerce")
        shots(page, f"install-woocommerce{suffix}")
        page.goto(f"{base}/install/magento")
        assert page.get_by_label("Callback URL").input_value() == f"{base}/install/magento/callback"
        shots(page, f"install-magento{suffix}")
        page.goto(f"{base}/install/magento/identity?oauth_consumer_key=nope")
        shots(page, f"install-problem{suffix}")
        page.close()
