"""The secret box checks its keys without ``cryptography`` (a web worker that never seals or opens a
secret does without it) and still seals, opens and rotates with it, as Fernet does."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from hub.errors import ConfigError
from hub.runtime.crypto import SecretBox, check_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not-base64-at-all!",
        "c2hvcnQ=",
        base64.urlsafe_b64encode(b"k" * 32).decode()[:-4],  # fixed: xdist workers must collect the same ids
        base64.urlsafe_b64encode(b"k" * 33).decode(),
    ],
)
def test_a_key_fernet_refuses_is_refused_when_the_box_is_made(key: str) -> None:
    with pytest.raises(ValueError, match="Fernet key must be 32"):
        Fernet(key.encode())
    with pytest.raises(ConfigError, match="not a valid Fernet key"):
        SecretBox([SecretBox.generate_key(), key])


def test_a_generated_key_is_a_fernet_key() -> None:
    key = SecretBox.generate_key()
    check_key(key)
    token = Fernet(key.encode()).encrypt(b"{}")
    assert SecretBox([key]).open(token.decode()) == {}


def test_sealed_with_the_box_opens_with_fernet_and_rotates() -> None:
    old, new = SecretBox.generate_key(), Fernet.generate_key().decode()
    token = SecretBox([old]).seal({"token": "shpat_secret"})
    assert Fernet(old.encode()).decrypt(token.encode()) == b'{"token": "shpat_secret"}'
    rotated = SecretBox([new, old]).rotate(token)
    assert SecretBox([new]).open(rotated) == {"token": "shpat_secret"}
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        SecretBox([new]).open(token)


def test_making_a_box_imports_no_cryptography_and_the_first_seal_does() -> None:
    script = (
        "import sys; from hub.runtime.crypto import SecretBox; box = SecretBox([SecretBox.generate_key()]);"
        "before = 'cryptography' in sys.modules; box.seal({'a': 'b'}); print(before, 'cryptography' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "True"]
