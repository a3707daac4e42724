"""Credentials at rest: Fernet-encrypted JSON, with key rotation through MultiFernet.

Keys come from ``REFUND_HUB_SECRET_KEYS`` (comma-separated, newest first): the first key
encrypts, every key decrypts, and ``rotate`` re-encrypts a token under the newest key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hub.errors import ConfigError


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError("hub.secret_keys", "at least one Fernet key is required (REFUND_HUB_SECRET_KEYS)")
        self.keys: tuple[str, ...] = tuple(k if isinstance(k, str) else k.decode() for k in keys)  # newest first
        try:
            self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
        except (ValueError, TypeError) as exc:
            raise ConfigError("hub.secret_keys", f"not a valid Fernet key: {exc}") from exc

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, secrets: Mapping[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, str]:
        try:
            return dict(json.loads(self._fernet.decrypt(token.encode())))
        except InvalidToken as exc:
            raise ConfigError(
                "hub.secret_keys", "stored credentials cannot be decrypted with the configured keys"
            ) from exc

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode()).decode()
