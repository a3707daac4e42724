"""The import contract "a plugin's adapter never imports its simulator" names each adapter module
(import-linter has no "every module but sim" form): a module added to a connector or gateway and
not listed would escape it. This keeps the list whole."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = (
    "connectors/magento",
    "connectors/shopify",
    "connectors/woocommerce",
    "gateways/paypal",
    "gateways/square",
    "gateways/stripe",
)


def test_every_adapter_module_is_held_to_never_import_its_simulator() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    listed = set(config["importlinter:contract:adapters-not-simulators"]["source_modules"].split())
    modules = {
        f"{package.replace('/', '.')}.{path.stem}"
        for package in PLUGINS
        for path in (ROOT / package).glob("*.py")
        if path.stem != "__init__"
    }
    assert modules - listed == set(), "add these to .importlinter's adapters-not-simulators source_modules"
    assert listed - modules == set(), "these are listed but no longer exist"
