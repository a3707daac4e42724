"""``gateways.paypal.settings`` writes out the SDK's environment URLs (so reading settings imports
no SDK): they must stay the ones ``paypalserversdk`` itself would call."""

from __future__ import annotations

from paypalserversdk.configuration import Configuration, Environment, Server

from gateways.paypal.settings import ENVIRONMENTS, PayPalSettings


def test_the_environment_urls_are_the_sdks() -> None:
    sdk = {name: Configuration.environments[Environment[name.upper()]][Server.DEFAULT] for name in ENVIRONMENTS}
    assert sdk == ENVIRONMENTS


def test_a_settings_environment_picks_its_url() -> None:
    live = PayPalSettings.from_mapping("pp", {"client_id": "a", "client_secret": "b", "environment": "production"})
    assert live.base_url == Configuration.environments[Environment.PRODUCTION][Server.DEFAULT]
