"""The plugin test kit: signing helpers and the contract suites (see ``hub.testing.contract``)."""

from hub.testing.signing import hmac_base64, hmac_hex, hmac_sha256, inbound

__all__ = ["hmac_base64", "hmac_hex", "hmac_sha256", "inbound"]
