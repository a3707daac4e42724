"""The account settings, read once and checked loudly."""

from __future__ import annotations

import pytest

from gateways.paypal.settings import PayPalSettings
from hub.errors import ConfigError


def test_settings() -> None:
    production = PayPalSettings.from_mapping(
        "pp", {"client_id": "a", "client_secret": "s3cret", "environment": "production"}
    )
    assert production.base_url == "https://api-m.paypal.com" and "s3cret" not in repr(production)
    sandbox = PayPalSettings.from_mapping("pp", {"client_id": "a", "client_secret": "b"})
    assert (sandbox.base_url, sandbox.timeout) == ("https://api-m.sandbox.paypal.com", 30.0)
    for bad in (
        {"client_secret": "b"},
        {"client_id": "a", "client_secret": "b", "environment": "live"},
        {"client_id": "a", "client_secret": "b", "timeout": "soon"},
    ):
        with pytest.raises(ConfigError):
            PayPalSettings.from_mapping("pp", bad)
