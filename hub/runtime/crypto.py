"""Credentials at rest: Fernet-encrypted JSON, with key rotation through MultiFernet.

Keys come from ``REFUND_HUB_SECRET_KEYS`` (comma-separated, newest first): the first key
encrypts, every key decrypts, and ``rotate`` re-encrypts a token under the newest key.

``cryptography`` is imported by the first secret sealed, opened or rotated (about 7 MB of a
process): a web worker that only verifies webhooks and serves the console never needs it. The
keys are checked when the box is made all the same, as Fernet checks them, so a bad key still
fails at start.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from hub.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

# A Fernet key: 32 random bytes (16 to sign, 16 to encrypt), URL-safe base64.
KEY_BYTES = 32


def check_key(key: str) -> None:
    """Raise ``ValueError`` unless ``key`` is a Fernet key (the check ``Fernet(key)`` makes)."""
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError) as exc:
        raise ValueError("Fernet key must be 32 url-safe base64-encoded bytes.") from exc
    if len(raw) != KEY_BYTES:
        raise ValueError("Fernet key must be 32 url-safe base64-encoded bytes.")


class SecretBox:
    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ConfigError("hub.secret_keys", "at least one Fernet key is required (REFUND_HUB_SECRET_KEYS)")
        self.keys: tuple[str, ...] = tuple(k if isinstance(k, str) else k.decode() for k in keys)  # newest first
        try:
            for key in self.keys:
                check_key(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError("hub.secret_keys", f"not a valid Fernet key: {exc}") from exc

    @staticmethod
    def generate_key() -> str:
        """A new key, made as ``Fernet.generate_key`` makes one."""
        return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()

    @cached_property
    def _fernet(self) -> MultiFernet:
        from cryptography.fernet import Fernet, MultiFernet

        return MultiFernet([Fernet(key.encode()) for key in self.keys])

    def seal(self, secrets: Mapping[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, str]:
        from cryptography.fernet import InvalidToken

        try:
            return dict(json.loads(self._fernet.decrypt(token.encode())))
        except InvalidToken as exc:
            raise ConfigError(
                "hub.secret_keys", "stored credentials cannot be decrypted with the configured keys"
            ) from exc

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode()).decode()
