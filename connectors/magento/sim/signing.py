"""The RSA keys Adobe's two push channels sign with, for the simulator, and the signature itself.

Key pairs are generated when the first simulator of the process needs them and reused by later
ones, since RSA key generation is slow.
"""

from __future__ import annotations

import base64
import threading

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_POOL: list[rsa.RSAPrivateKey] = []
_POOL_LOCK = threading.Lock()


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pooled_keys(count: int) -> list[rsa.RSAPrivateKey]:
    """``count`` key pairs, generated once per process."""
    with _POOL_LOCK:
        while len(_POOL) < count:
            _POOL.append(new_key())
        return _POOL[:count]


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """base64 RSA-SHA256 (PKCS#1 v1.5), the scheme of both Adobe channels."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
