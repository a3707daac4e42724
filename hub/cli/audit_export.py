"""Signed audit exports an auditor checks offline (docs/webhooks.md explains it step by step).

An export of one store's chain over a period is a folder:

- ``entries.jsonl``: one entry per line, canonical JSON, in chain order (a contiguous run);
- ``manifest.json``: the store, the period, the run (first seq and the hash it links to, last seq
  and hash), the chain's head when exported, the count, the SHA-256 of ``entries.jsonl`` and the
  public key;
- ``manifest.sig``: the Ed25519 signature of ``manifest.json``'s bytes, base64;
- ``public-key.pem``: the key, for ``openssl pkeyutl -verify``.

The signing key is derived from the hub's first secret key (HKDF-SHA256): nothing more to keep
safe, and ``refund-hub audit public-key`` prints the key an auditor pins. Rotating the hub's keys
rotates it; earlier exports stay checkable with the key they name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.ledger.audit_chain import canonical, check_run

FORMAT = "refund-hub-audit-export/1"
ENTRIES, MANIFEST, SIGNATURE, PEM = "entries.jsonl", "manifest.json", "manifest.sig", "public-key.pem"


def signing_key(secret_keys: Sequence[str]) -> Ed25519PrivateKey:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"refund-hub audit export signing key")
    return Ed25519PrivateKey.from_private_bytes(seed.derive(secret_keys[0].encode()))


def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64: what an auditor pins."""
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def write_export(
    folder: Path, entries: Iterable[Mapping[str, Any]], about: Mapping[str, Any], key: Ed25519PrivateKey
) -> dict[str, Any]:
    """Write the folder; ``about`` holds the store, the period and the head. Streams the entries."""
    folder.mkdir(parents=True, exist_ok=True)
    digest, count = hashlib.sha256(), 0
    first: Mapping[str, Any] | None = None
    last: Mapping[str, Any] | None = None
    with (folder / ENTRIES).open("wb") as out:
        for entry in entries:
            line = canonical(dict(entry)).encode() + b"\n"
            out.write(line)
            digest.update(line)
            first, last, count = first or entry, entry, count + 1
    public = key.public_key()
    manifest = {
        "format": FORMAT,
        **about,
        "entries": count,
        "first_seq": first["seq"] if first else None,
        "first_prev_hash": first["prev_hash"] if first else None,
        "last_seq": last["seq"] if last else None,
        "last_hash": last["hash"] if last else None,
        "entries_sha256": digest.hexdigest(),
        "public_key": public_key_text(public),
    }
    body = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    (folder / MANIFEST).write_bytes(body)
    (folder / SIGNATURE).write_text(base64.b64encode(key.sign(body)).decode() + "\n")
    (folder / PEM).write_bytes(public_pem(public))
    return manifest


@dataclass
class ExportCheck:
    manifest: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    pinned: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_export(folder: Path, public_key: str | None = None) -> ExportCheck:
    """Check a folder offline: the signature (with ``public_key`` if given: the one the auditor
    pinned; else the one the manifest names), the entries' digest, every hash and link."""
    check = ExportCheck(pinned=public_key is not None)
    try:
        body = (folder / MANIFEST).read_bytes()
        check.manifest = json.loads(body)
        signature = base64.b64decode((folder / SIGNATURE).read_text().strip(), validate=True)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key or check.manifest["public_key"]))
    except (OSError, ValueError, KeyError, binascii.Error) as exc:
        check.problems.append(f"the export cannot be read: {exc}")
        return check
    try:
        key.verify(signature, body)
    except InvalidSignature:
        check.problems.append("the manifest's signature does not match (changed, or signed by another key)")
    if check.manifest.get("format") != FORMAT:
        check.problems.append(f"unknown format {check.manifest.get('format')!r}")
    _check_entries(folder / ENTRIES, check)
    return check


def _check_entries(path: Path, check: ExportCheck) -> None:
    manifest, digest = check.manifest, hashlib.sha256()

    def lines() -> Iterable[dict[str, Any]]:
        with path.open("rb") as source:
            for line in source:
                digest.update(line)
                yield json.loads(line)

    try:
        run = check_run(str(manifest.get("store")), lines(), start=None)
    except (OSError, ValueError, KeyError) as exc:
        check.problems.append(f"{ENTRIES} cannot be read: {exc}")
        return
    check.problems.extend(run.problems)
    if digest.hexdigest() != manifest.get("entries_sha256"):
        check.problems.append(f"{ENTRIES} is not the file the manifest signed (its SHA-256 differs)")
    found = (run.entries, run.first_seq, run.first_prev, run.last_seq, run.last_hash)
    signed = tuple(manifest.get(k) for k in ("entries", "first_seq", "first_prev_hash", "last_seq", "last_hash"))
    if found != signed:
        check.problems.append(
            f"the entries do not match the manifest (found {found[:2]}..{found[3]}, signed {signed[:2]}..{signed[3]})"
        )
